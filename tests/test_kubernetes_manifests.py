"""deploy/kubernetes/: valid against the Kubernetes schemas, offline; consistent with the app."""

from __future__ import annotations

import copy
import re
import socket
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from codesage.config.metrics import NodeMetrics

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = ROOT / "deploy" / "kubernetes"
# The oldest Kubernetes we support, and the newest the bundled schemas know.
KUBERNETES_VERSIONS = ("1.30", ".".join(kubernetes_validate.latest_version().split(".")[:2]))
SECRET_KEYS = ("CODESAGE_DATABASE_URL", "CODESAGE_REDIS_URL", "CODESAGE_JWT_SECRET")
PRIVATE_PATHS = ("/metrics", "/healthz", "/readyz")


def manifest_files() -> list[Path]:
    """Every manifest file."""
    return sorted(MANIFESTS.glob("*.yaml"))


def resources() -> list[dict[str, Any]]:
    """Every resource of every manifest file."""
    found: list[dict[str, Any]] = []
    for path in manifest_files():
        found.extend(doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc)
    return found


def resource(kind: str) -> dict[str, Any]:
    """The one resource of `kind`."""
    (found,) = [r for r in resources() if r["kind"] == kind]
    return found


def container() -> dict[str, Any]:
    """The Deployment's one container."""
    (only,) = resource("Deployment")["spec"]["template"]["spec"]["containers"]
    return only


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test: validation must work offline."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the schema validation tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_the_expected_manifests_are_there() -> None:
    names = {path.name for path in manifest_files()}
    assert names == {
        "deployment.yaml",
        "service.yaml",
        "ingress.yaml",
        "hpa.yaml",
        "secret.example.yaml",
    }


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_manifest_is_valid_against_the_kubernetes_schema(path: Path, version: str) -> None:
    docs = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    assert docs
    for doc in docs:
        # strict: unknown fields (typos) fail too.
        assert kubernetes_validate.validate(doc, version, strict=True) == version


@pytest.mark.usefixtures("no_network")
def test_the_validator_rejects_a_broken_manifest() -> None:
    broken = copy.deepcopy(resource("Deployment"))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.30", strict=True)
    typo = copy.deepcopy(resource("Deployment"))
    typo["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, "1.30", strict=True)


def test_manifests_are_namespace_less() -> None:
    for found in resources():
        assert "namespace" not in found["metadata"], found["kind"]


def test_deployment_probes_and_drain() -> None:
    spec = resource("Deployment")["spec"]
    assert spec["replicas"] == 2
    pod = spec["template"]["spec"]
    node = container()
    assert node["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert node["livenessProbe"]["httpGet"]["path"] == "/healthz"
    port_names = {port["name"] for port in node["ports"]}
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert node[probe]["httpGet"]["port"] in port_names
    command = node["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    # The grace period covers the preStop sleep and leaves a real drain after SIGTERM.
    assert pod["terminationGracePeriodSeconds"] >= int(command[1]) + 60


def test_deployment_takes_its_secrets_from_the_secret() -> None:
    secret = resource("Secret")
    env = {item["name"]: item for item in container()["env"]}
    for key in SECRET_KEYS:
        ref = env[key]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == secret["metadata"]["name"]
        assert ref["key"] == key and key in secret["stringData"]
        assert "optional" not in ref, key


def test_the_example_secret_holds_placeholders_only() -> None:
    for key, value in resource("Secret")["stringData"].items():
        assert "CHANGE-ME" in value, key


def test_deployment_runs_non_root_on_a_read_only_root() -> None:
    pod = resource("Deployment")["spec"]["template"]["spec"]
    node = container()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert node["securityContext"]["readOnlyRootFilesystem"] is True
    assert node["securityContext"]["allowPrivilegeEscalation"] is False
    # The same uid as the image's USER.
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    users = re.findall(r"^USER (\d+)", dockerfile, flags=re.MULTILINE)
    assert pod["securityContext"]["runAsUser"] == int(users[-1])
    # The data folder is a writable emptyDir.
    env = {item["name"]: item.get("value") for item in container()["env"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in node["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert "emptyDir" in volumes[mounts[env["CODESAGE_DATA_DIR"]]]
    assert "emptyDir" in volumes[mounts["/tmp"]]


def test_deployment_resources_are_set() -> None:
    resources_ = container()["resources"]
    assert resources_["requests"]["cpu"] and resources_["requests"]["memory"]
    assert resources_["limits"]["memory"] == resources_["requests"]["memory"]


def test_service_selects_the_pods_and_the_named_port() -> None:
    service = resource("Service")
    pod_labels = resource("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= {
        p["name"] for p in container()["ports"]
    }


def test_ingress_is_sticky_and_keeps_private_endpoints_private() -> None:
    ingress = resource("Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 600
    service = resource("Service")
    service_ports = {p["name"] for p in service["spec"]["ports"]}
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == service["metadata"]["name"]
            assert backend["port"]["name"] in service_ports
            for private in PRIVATE_PATHS:
                routed = (
                    private == path["path"]
                    if path["pathType"] == "Exact"
                    else private == path["path"]
                    or private.startswith(path["path"].rstrip("/") + "/")
                )
                assert not routed, f"{path['path']} exposes {private}"
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert {"/api", "/socket.io"} <= paths


def test_hpa_scales_the_deployment_on_active_interviews() -> None:
    hpa = resource("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == (
        "Deployment",
        resource("Deployment")["metadata"]["name"],
    )
    assert hpa["spec"]["minReplicas"] >= 2
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "Pods"
    name = metric["pods"]["metric"]["name"]
    assert name == "codesage_interviews_active"
    exported = {family.name for family in NodeMetrics.create().registry.collect()}
    assert name in exported
    assert metric["pods"]["target"]["type"] == "AverageValue"
