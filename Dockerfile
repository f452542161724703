# syntax=docker/dockerfile:1
# Multi-stage build: dependencies and model packages in a builder, a slim non-root runtime.

FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY codesage ./codesage
# torch first and pinned to its CPU build; an unpinned torch pulls a multi-GB CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0" \
    && pip install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 codesage
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    CODESAGE_HOST=0.0.0.0 \
    CODESAGE_PORT=8080 \
    CODESAGE_DATA_DIR=/data
RUN mkdir /data && chown codesage /data
USER codesage
WORKDIR /home/codesage
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status != 200)"
CMD ["codesage", "serve"]
