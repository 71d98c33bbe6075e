"""The Helm chart (helm/drskin), the site's Dockerfile and their contracts with the images.

The chart is linted and rendered by the real Helm engine (helm-python-sdk binds Helm's Go SDK; no helm binary, no
cluster, no network) for the defaults and every scenario under helm/drskin/ci/, and every rendered manifest is
validated against the Kubernetes OpenAPI schemas shipped by kubernetes-validate (offline).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

helm = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed (pip install -e '.[test]')")
kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "drskin"
DOCKERFILE = ROOT / "Dockerfile.webapp"
BENTOFILE = ROOT / "bentofile.yaml"
# The oldest Kubernetes minor the chart is tested against; kubernetes-validate ships its schemas offline.
KUBE_VERSION = "1.30"
RELEASE = "drskin"
NAMESPACE = "drskin"

SCENARIO_FILES = {path.name.removesuffix("-values.yaml"): path for path in sorted((CHART / "ci").glob("*-values.yaml"))}
SCENARIOS = sorted(SCENARIO_FILES)
REQUIRED_SCENARIOS = {"default", "external-database", "mlflow", "no-autoscaling", "ingress-tls", "gpu"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}
PASSWORD_LIKE = re.compile(r"PASSWORD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY", re.IGNORECASE)
SELECTOR = {"app.kubernetes.io/name": "drskin", "app.kubernetes.io/instance": RELEASE}


# --------------------------------------------------------------------------------------------------------------------
# Rendering helpers
# --------------------------------------------------------------------------------------------------------------------


@cache
def _chart() -> Any:
    return helm.Chart.load(CHART)


def scenario_values(scenario: str) -> dict[str, Any]:
    return yaml.safe_load(SCENARIO_FILES[scenario].read_text()) or {}


def render(values: dict[str, Any] | None = None, *, name: str = RELEASE, is_install: bool = True) -> list[dict]:
    """Render the chart like `helm template` and return its Kubernetes objects."""
    rendered = _chart().render(values or None, name=name, namespace=NAMESPACE, is_install=is_install)
    objects: list[dict] = []
    for path, text in sorted(rendered.items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


@cache
def _render_scenario(scenario: str) -> str:
    return json.dumps(render(scenario_values(scenario)))


def rendered(scenario: str) -> list[dict]:
    """Rendered objects of one scenario (cached; a fresh copy each call)."""
    objects: list[dict] = json.loads(_render_scenario(scenario))
    return objects


def find(objects: list[dict], kind: str, component: str | None = None) -> list[dict]:
    return [
        obj
        for obj in objects
        if obj["kind"] == kind
        and (component is None or obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") == component)
    ]


def one(objects: list[dict], kind: str, component: str | None = None) -> dict:
    found = find(objects, kind, component)
    assert len(found) == 1, f"expected one {kind} for component {component}, found {len(found)}"
    return found[0]


def pod_spec(workload: dict) -> dict:
    spec: dict = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: dict, *, init: bool = True) -> Iterator[dict]:
    spec = pod_spec(workload)
    yield from spec["containers"]
    if init:
        yield from spec.get("initContainers", [])


def env_of(container: dict) -> dict[str, dict]:
    return {item["name"]: item for item in container.get("env", [])}


def site_container(objects: list[dict]) -> dict:
    return pod_spec(one(objects, "Deployment", "web"))["containers"][0]


def service_container(objects: list[dict]) -> dict:
    return pod_spec(one(objects, "Deployment", "service"))["containers"][0]


# --------------------------------------------------------------------------------------------------------------------
# Lint, schema and Kubernetes validation
# --------------------------------------------------------------------------------------------------------------------


def test_every_required_scenario_has_a_values_file() -> None:
    assert set(SCENARIOS) >= REQUIRED_SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_chart_lints_cleanly(scenario: str) -> None:
    report = helm.lint(
        CHART, scenario_values(scenario), strict=True, namespace=NAMESPACE, kube_version=f"v{KUBE_VERSION}.0"
    )
    assert report["errors"] == []
    problems = [message for message in report["messages"] if message["severity"] >= 2]
    assert problems == []


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_manifests_are_valid_kubernetes_objects(scenario: str) -> None:
    objects = rendered(scenario)
    assert objects
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {error.message} at {list(error.path)}")


@pytest.mark.parametrize(
    "values",
    [
        {"servcie": {"replicaCount": 2}},  # a typo at the top level
        {"site": {"replicas": 3}},  # a typo inside a component
        {"postgresql": {"auth": {"password": "S3cr3t-in-values"}}},
        {"externalDatabase": {"password": "S3cr3t-in-values"}},
        {"postgresql": {"enabled": False}},  # an external database needs a host and an existing Secret
        {"site": {"extraEnv": [{"name": "SMTP_PASSWORD", "value": "S3cr3t-in-values"}]}},
        {"containerSecurityContext": {"runAsNonRoot": False}},
        {"site": {"forwardedAllowIps": "*"}},  # any client could pick its own address for the rate limits
    ],
    ids=[
        "top-level-typo",
        "component-typo",
        "postgres-password",
        "external-password",
        "external-without-secret",
        "password-env-value",
        "root-allowed",
        "trust-every-proxy",
    ],
)
def test_schema_rejects_bad_values(values: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmValuesError):
        render(values)


def test_names_fit_in_63_characters_for_the_longest_release_name() -> None:
    release = "r" * 53  # Helm's own limit on release names
    objects = render(name=release)
    names = [(obj["kind"], obj["metadata"]["name"]) for obj in objects]
    assert all(len(name) <= 63 for _, name in names), names
    assert len(set(names)) == len(names), "two objects of one kind share a name"
    for obj in objects:
        for value in obj["metadata"].get("labels", {}).values():
            assert len(value) <= 63


# --------------------------------------------------------------------------------------------------------------------
# Hardening
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_container_is_hardened(scenario: str) -> None:
    workloads = [obj for obj in rendered(scenario) if obj["kind"] in WORKLOAD_KINDS]
    assert workloads
    for workload in workloads:
        spec = pod_spec(workload)
        where = f"{workload['kind']}/{workload['metadata']['name']}"
        assert spec.get("automountServiceAccountToken") is False, where
        pod_context = spec.get("securityContext", {})
        for container in containers(workload):
            context = {**pod_context, **container.get("securityContext", {})}
            what = f"{where} container {container['name']}"
            assert context.get("runAsNonRoot") is True, what
            assert context.get("runAsUser", 1) != 0, what
            assert context.get("readOnlyRootFilesystem") is True, what
            assert context.get("allowPrivilegeEscalation") is False, what
            assert context.get("privileged", False) is False, what
            assert "ALL" in context.get("capabilities", {}).get("drop", []), what
            assert context.get("seccompProfile", {}).get("type") == "RuntimeDefault", what
            mounts = {mount["mountPath"] for mount in container.get("volumeMounts", [])}
            if container["name"] != "wait-for-database":  # a socket loop in Python writes nothing
                assert "/tmp" in mounts, f"{what}: read-only root needs a writable /tmp"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_long_running_containers_have_probes(scenario: str) -> None:
    for workload in rendered(scenario):
        if workload["kind"] not in {"Deployment", "StatefulSet"}:
            continue
        for container in containers(workload, init=False):
            what = f"{workload['metadata']['name']}/{container['name']}"
            assert "livenessProbe" in container, what
            assert "readinessProbe" in container, what


def test_service_probes_follow_the_bento_contract() -> None:
    container = service_container(rendered("default"))
    assert container["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    startup = container["startupProbe"]
    assert startup["httpGet"] == {"path": "/livez", "port": "http"}
    # Model loading takes about a minute: the startup probe must give it several.
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 180


def test_service_threads_follow_the_pods_cpus_not_the_nodes() -> None:
    """The model workers size their threads from DRSKIN_CPUS (serving.settings); the chart sets it from the pod's
    CPU limit, else its request (the default values request 500m and set no limit): never left to the node's count."""
    cpus = env_of(service_container(rendered("default")))["DRSKIN_CPUS"]["valueFrom"]["resourceFieldRef"]
    assert cpus == {"containerName": "service", "resource": "requests.cpu", "divisor": "1"}
    limited = render({"service": {"resources": {"requests": {"cpu": "500m"}, "limits": {"cpu": "3", "memory": "4Gi"}},
                                  "extraEnv": [{"name": "EXTRA", "value": "1"}]}})
    env = env_of(service_container(limited))
    assert env["DRSKIN_CPUS"]["valueFrom"]["resourceFieldRef"]["resource"] == "limits.cpu"
    assert env["EXTRA"]["value"] == "1"


def test_site_probes_never_make_liveness_depend_on_the_database() -> None:
    container = site_container(rendered("default"))
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"


# --------------------------------------------------------------------------------------------------------------------
# Scaling
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_deployments_scaled_by_an_hpa_leave_replicas_unset(scenario: str) -> None:
    objects = rendered(scenario)
    deployments = {obj["metadata"]["name"]: obj for obj in find(objects, "Deployment")}
    for hpa in find(objects, "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment"
        assert target["name"] in deployments
        assert "replicas" not in deployments[target["name"]]["spec"]


def test_autoscaling_covers_service_and_site_by_default() -> None:
    objects = rendered("default")
    assert {
        hpa["metadata"]["labels"]["app.kubernetes.io/component"] for hpa in find(objects, "HorizontalPodAutoscaler")
    } == {
        "service",
        "web",
    }
    assert one(objects, "HorizontalPodAutoscaler", "web")["spec"]["minReplicas"] >= 2  # the site runs several


def test_without_autoscaling_replicas_are_fixed() -> None:
    objects = rendered("no-autoscaling")
    assert find(objects, "HorizontalPodAutoscaler") == []
    assert find(objects, "PodDisruptionBudget") == []
    assert one(objects, "Deployment", "service")["spec"]["replicas"] == 2
    assert one(objects, "Deployment", "web")["spec"]["replicas"] == 3


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_disruption_budgets_select_their_deployment(scenario: str) -> None:
    objects = rendered(scenario)
    for pdb in find(objects, "PodDisruptionBudget"):
        component = pdb["metadata"]["labels"]["app.kubernetes.io/component"]
        pod_labels = one(objects, "Deployment", component)["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_gpu_scenario_requests_gpus_on_gpu_nodes() -> None:
    spec = pod_spec(one(rendered("gpu"), "Deployment", "service"))
    assert spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    assert spec["runtimeClassName"] == "nvidia"
    config = one(rendered("gpu"), "ConfigMap", "service")["data"]
    assert config["DRSKIN_CLASSIFIER"] == "skin-classifier:latest"
    assert config["DRSKIN_SEGMENTER"] == "skin-segmenter:latest"

    default_spec = pod_spec(one(rendered("default"), "Deployment", "service"))
    assert "nvidia.com/gpu" not in default_spec["containers"][0]["resources"].get("limits", {})
    assert "nodeSelector" not in default_spec and "tolerations" not in default_spec


# --------------------------------------------------------------------------------------------------------------------
# Secrets and configuration
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_password_like_variable_has_a_literal_value(scenario: str) -> None:
    for workload in rendered(scenario):
        if workload["kind"] not in WORKLOAD_KINDS:
            continue
        for container in containers(workload):
            for name, item in env_of(container).items():
                if PASSWORD_LIKE.search(name):
                    assert "value" not in item and "secretKeyRef" in item.get("valueFrom", {}), name
                if name.endswith(("DATABASE_URL", "BACKEND_STORE_URI")) and "value" in item and "://" in item["value"]:
                    # The kubelet fills the password in from DATABASE_PASSWORD ($(VAR) expansion).
                    credentials = item["value"].split("://", 1)[1].split("@", 1)[0]
                    assert credentials == "$(DATABASE_USER):$(DATABASE_PASSWORD)", item["value"]


def test_a_known_password_in_existing_secrets_never_reaches_the_manifests() -> None:
    known = "Kn0wn-Pa55word-only-in-the-cluster"
    values = scenario_values("external-database")
    text = json.dumps(render(values))
    assert known not in text
    objects = json.loads(text)
    # With every secret coming from existing Secrets, the chart renders none of its own.
    assert find(objects, "Secret") == []
    site_env = env_of(site_container(objects))
    assert site_env["DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "drskin-database", "key": "password"}
    assert site_env["DRSKIN_SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "drskin-site", "key": "secret-key"}
    # And the schema leaves no place to put the password itself.
    with pytest.raises(helm.HelmValuesError):
        render({**values, "externalDatabase": {**values["externalDatabase"], "password": known}})


def test_generated_secrets_are_kept_and_reuse_their_existing_value() -> None:
    objects = rendered("default")
    secrets = find(objects, "Secret")
    assert {secret["metadata"]["labels"]["app.kubernetes.io/component"] for secret in secrets} == {"web", "postgresql"}
    for secret in secrets:
        assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    sources = {template["name"]: template["data"] for template in _chart().templates}
    for name in ("templates/site-secret.yaml", "templates/postgresql-secret.yaml"):
        assert 'lookup "v1" "Secret"' in sources[name], f"{name} must keep the value of an existing Secret"


def test_site_environment_follows_the_contract() -> None:
    objects = rendered("default")
    container = site_container(objects)
    config = one(objects, "ConfigMap", "web")["data"]
    assert config["DRSKIN_ENV"] == "production"
    service = one(objects, "Service", "service")
    assert config["DRSKIN_SERVICE_URL"] == f"http://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}"
    assert service["spec"]["ports"][0]["port"] == 3000
    assert config["DRSKIN_SECURE_COOKIES"] == "false"
    assert {"configMapRef": {"name": one(objects, "ConfigMap", "web")["metadata"]["name"]}} in container["envFrom"]
    env = env_of(container)
    database_services = [
        svc for svc in find(objects, "Service", "postgresql") if svc["spec"].get("clusterIP") != "None"
    ]
    assert [svc["metadata"]["name"] for svc in database_services] == [env["DATABASE_HOST"]["value"]]
    assert env["DATABASE_URL"]["value"] == (
        "postgresql+asyncpg://$(DATABASE_USER):$(DATABASE_PASSWORD)@$(DATABASE_HOST):$(DATABASE_PORT)/$(DATABASE_NAME)"
    )
    names = list(env)  # $(VAR) expansion only sees variables defined earlier in the list
    assert names.index("DATABASE_PASSWORD") < names.index("DATABASE_URL")

    tls_config = one(rendered("ingress-tls"), "ConfigMap", "web")["data"]
    assert tls_config["DRSKIN_SECURE_COOKIES"] == "true"
    assert not any(name.startswith("DRSKIN_SMTP") for name in config)  # no mail settings: no mail


def test_mail_settings_come_from_values_and_the_login_from_an_existing_secret() -> None:
    objects = rendered("mail")
    config = one(objects, "ConfigMap", "web")["data"]
    assert config["DRSKIN_SMTP_HOST"] == "smtp.example.com" and config["DRSKIN_SMTP_PORT"] == "587"
    assert config["DRSKIN_SMTP_SECURITY"] == "starttls"
    assert config["DRSKIN_PUBLIC_URL"] == "https://drskin.example.com"  # from the TLS ingress host
    env = env_of(site_container(objects))
    for name, key in (("DRSKIN_SMTP_USER", "username"), ("DRSKIN_SMTP_PASSWORD", "password")):
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "drskin-smtp", "key": key}
        assert "value" not in env[name]


def test_ingress_routes_to_the_site_with_tls() -> None:
    objects = rendered("ingress-tls")
    ingress = one(objects, "Ingress", "web")
    assert ingress["spec"]["tls"] == [{"hosts": ["drskin.example.org"], "secretName": "drskin-tls"}]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": one(objects, "Service", "web")["metadata"]["name"], "port": {"name": "http"}}
    assert find(rendered("default"), "Ingress") == []


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_pods_roll_when_their_configmaps_change(scenario: str) -> None:
    objects = rendered(scenario)
    for workload in objects:
        if workload["kind"] not in {"Deployment", "StatefulSet"}:
            continue
        uses_configmap = any("configMapRef" in source for c in containers(workload) for source in c.get("envFrom", []))
        uses_configmap |= any("configMap" in volume for volume in pod_spec(workload).get("volumes", []))
        if uses_configmap:
            annotations = workload["spec"]["template"]["metadata"].get("annotations", {})
            assert re.fullmatch(r"[0-9a-f]{64}", annotations.get("checksum/config", "")), workload["metadata"]["name"]


def test_checksum_changes_with_the_configuration() -> None:
    def checksum(values: dict[str, Any]) -> str:
        deployment = one(render(values), "Deployment", "service")
        checksum_value: str = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        return checksum_value

    assert checksum({}) == checksum({})
    assert checksum({}) != checksum({"service": {"classifier": "skin-classifier:abc123"}})


# --------------------------------------------------------------------------------------------------------------------
# Migrations and the database
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "hook"),
    [("default", "post-install,pre-upgrade"), ("external-database", "pre-install,pre-upgrade")],
)
def test_migration_job_is_a_helm_hook(scenario: str, hook: str) -> None:
    objects = rendered(scenario)
    job = one(objects, "Job", "migrations")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == hook
    assert "helm.sh/hook-weight" in annotations
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation"
    spec = pod_spec(job)
    assert spec["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] >= 1
    assert spec["containers"][0]["command"] == ["python", "-m", "webapp", "migrate"]
    assert spec["containers"][0]["image"] == site_container(objects)["image"]
    # It waits for the database (which, in-chart, is created together with the post-install hook).
    assert [init["name"] for init in spec["initContainers"]] == ["wait-for-database"]
    # A hook runs before (pre-install) or outside the release's own resources: it may not depend on them.
    assert "serviceAccountName" not in spec
    assert all("envFrom" not in container for container in containers(job))
    # The site itself never migrates.
    assert "migrate" not in site_container(objects)["command"]


def test_external_database_migrations_read_only_the_existing_secret() -> None:
    job = one(rendered("external-database"), "Job", "migrations")
    env = env_of(pod_spec(job)["containers"][0])
    assert env["DATABASE_HOST"]["value"] == "postgres.db.svc.cluster.local"
    assert env["DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "drskin-database"


def test_in_chart_postgresql_is_a_hardened_statefulset_with_its_data_on_a_volume() -> None:
    objects = rendered("default")
    statefulset = one(objects, "StatefulSet", "postgresql")
    container = pod_spec(statefulset)["containers"][0]
    env = env_of(container)
    assert env["PGDATA"]["value"].startswith("/var/lib/postgresql/data/")
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert mounts["/var/lib/postgresql/data"] == "data"
    assert [claim["metadata"]["name"] for claim in statefulset["spec"]["volumeClaimTemplates"]] == ["data"]
    volumes = {volume["name"]: volume for volume in pod_spec(statefulset)["volumes"]}
    for path in ("/var/run/postgresql", "/tmp"):
        assert "emptyDir" in volumes[mounts[path]]
    assert statefulset["spec"]["serviceName"] in {svc["metadata"]["name"] for svc in find(objects, "Service")}
    assert find(rendered("external-database"), "StatefulSet") == []


def test_mlflow_scenario_runs_a_tracking_server_on_its_volume() -> None:
    objects = rendered("mlflow")
    deployment = one(objects, "Deployment", "mlflow")
    container = pod_spec(deployment)["containers"][0]
    assert container["command"] == ["mlflow", "server"]
    assert "--serve-artifacts" in container["args"]
    claim = one(objects, "PersistentVolumeClaim", "mlflow")
    volumes = {volume["name"]: volume for volume in pod_spec(deployment)["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert env_of(container)["MLFLOW_BACKEND_STORE_URI"]["value"].startswith("postgresql://$(DATABASE_USER)")
    assert one(objects, "Service", "mlflow")
    sqlite = one(render({"mlflow": {"enabled": True}}), "ConfigMap", "mlflow")["data"]
    assert sqlite["MLFLOW_BACKEND_STORE_URI"] == "sqlite:////mlflow/mlflow.db"
    assert find(rendered("default"), "Deployment", "mlflow") == []


# --------------------------------------------------------------------------------------------------------------------
# NetworkPolicies
# --------------------------------------------------------------------------------------------------------------------

DNS = ("dns",)
INGRESS_CONTROLLER = ("ingress-controller",)
DNS_PORTS = frozenset({("UDP", 53), ("TCP", 53)})


def peer_of(peer: dict) -> tuple:
    """Name a NetworkPolicyPeer: a component of this release, DNS, the ingress controller, or something else."""
    pods = peer.get("podSelector", {}).get("matchLabels", {})
    namespaces = peer.get("namespaceSelector", {}).get("matchLabels")
    if namespaces is None and SELECTOR.items() <= pods.items() and "app.kubernetes.io/component" in pods:
        return ("component", pods["app.kubernetes.io/component"])
    if namespaces == {"kubernetes.io/metadata.name": "kube-system"} and pods == {"k8s-app": "kube-dns"}:
        return DNS
    if namespaces == {"kubernetes.io/metadata.name": "ingress-nginx"}:
        return INGRESS_CONTROLLER
    return ("other", json.dumps(peer, sort_keys=True))


def rules(policy: dict, direction: str) -> set[tuple[tuple, frozenset]]:
    """The (peer, ports) pairs a policy allows in one direction ("ingress" or "egress")."""
    key = "from" if direction == "ingress" else "to"
    allowed = set()
    for rule in policy["spec"].get(direction, []):
        assert rule.get(key), f"{policy['metadata']['name']}: a rule without peers admits everyone"
        assert rule.get("ports"), f"{policy['metadata']['name']}: a rule without ports admits every port"
        ports = frozenset((port.get("protocol", "TCP"), port["port"]) for port in rule["ports"])
        allowed |= {(peer_of(peer), ports) for peer in rule[key]}
    return allowed


def policies_by_component(objects: list[dict]) -> dict[str, dict]:
    policies = {}
    for policy in find(objects, "NetworkPolicy"):
        selector = policy["spec"]["podSelector"]["matchLabels"]
        assert SELECTOR.items() <= selector.items()
        policies[selector.get("app.kubernetes.io/component", "*")] = policy
        assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    return policies


def component(name: str) -> tuple:
    return ("component", name)


def database_peer(objects: list[dict]) -> tuple:
    if find(objects, "StatefulSet", "postgresql"):
        return component("postgresql")
    return (
        "other",
        json.dumps(
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "db"}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgresql"}},
            },
            sort_keys=True,
        ),
    )


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "no-autoscaling"])
def test_network_policies_admit_only_what_each_component_needs(scenario: str) -> None:
    objects = rendered(scenario)
    values = scenario_values(scenario)
    policies = policies_by_component(objects)
    db_port = 5432

    # Default deny for every pod of the release, and a policy for every component that runs.
    assert policies["*"]["spec"].get("ingress") is None and policies["*"]["spec"].get("egress") is None
    for workload in objects:
        if workload["kind"] in WORKLOAD_KINDS:
            assert workload["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] in policies

    service, web = policies["service"], policies["web"]
    assert rules(service, "ingress") == {(component("web"), frozenset({("TCP", 3000)}))}
    assert rules(service, "egress") == {(DNS, DNS_PORTS)}

    web_ingress = {(INGRESS_CONTROLLER, frozenset({("TCP", 8000)}))} if values.get("site", {}).get("ingress") else set()
    assert rules(web, "ingress") == web_ingress
    db = database_peer(objects)
    mail = values.get("site", {}).get("mail", {})
    smtp = {(peer_of(peer), frozenset({("TCP", mail.get("port", 587))})) for peer in mail.get("egressTo", [])} \
        if mail.get("host") else set()
    assert rules(web, "egress") == {
        (DNS, DNS_PORTS),
        (component("service"), frozenset({("TCP", 3000)})),
        (db, frozenset({("TCP", db_port)})),
    } | smtp
    assert rules(policies["migrations"], "ingress") == set()
    assert rules(policies["migrations"], "egress") == {(DNS, DNS_PORTS), (db, frozenset({("TCP", db_port)}))}

    mlflow_uses_db = values.get("mlflow", {}).get("backend") == "postgresql"
    if "postgresql" in policies:
        expected = {component("web"), component("migrations")} | ({component("mlflow")} if mlflow_uses_db else set())
        assert rules(policies["postgresql"], "ingress") == {(peer, frozenset({("TCP", 5432)})) for peer in expected}
        assert rules(policies["postgresql"], "egress") == set()
    if "mlflow" in policies:
        expected_egress = {(DNS, DNS_PORTS)} | ({(db, frozenset({("TCP", db_port)}))} if mlflow_uses_db else set())
        assert rules(policies["mlflow"], "egress") == expected_egress
        assert {peer for peer, _ in rules(policies["mlflow"], "ingress")} == {
            ("other", json.dumps({"podSelector": {"matchLabels": {"drskin-mlflow-client": "true"}}}, sort_keys=True))
        }


def test_exposing_the_service_to_the_ingress_controller_is_opt_in() -> None:
    policies = policies_by_component(render({"networkPolicy": {"service": {"allowIngressController": True}}}))
    assert {peer for peer, _ in rules(policies["service"], "ingress")} == {component("web"), INGRESS_CONTROLLER}


# --------------------------------------------------------------------------------------------------------------------
# The images: the site's Dockerfile and the Bento
# --------------------------------------------------------------------------------------------------------------------


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def test_site_dockerfile_runs_what_the_chart_runs() -> None:
    instructions = dockerfile_instructions(DOCKERFILE)
    final_stage = instructions[max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM") :]
    # The base is an ARG: python:3.11-slim by default, the local Debian base in `make images` (scripts/images).
    base_args = dict(args.split("=", 1) for keyword, args in instructions if keyword == "ARG" and "=" in args)
    assert base_args.get("BASE_IMAGE") == "python:3.11-slim"
    assert {args.split()[0] for keyword, args in instructions if keyword == "FROM"} == {"${BASE_IMAGE}"}
    assert len([1 for keyword, _ in instructions if keyword == "FROM"]) >= 2, "multi-stage build"

    objects = rendered("default")
    container = site_container(objects)
    exposed = [args for keyword, args in final_stage if keyword == "EXPOSE"]
    assert exposed == [str(container["ports"][0]["containerPort"])]
    cmd = [args for keyword, args in final_stage if keyword == "CMD"][-1]
    assert json.loads(cmd) == container["command"]
    assert json.loads(cmd) == shlex.split("uvicorn webapp.app:create_app --factory --host 0.0.0.0 --port 8000")
    user = [args for keyword, args in final_stage if keyword == "USER"][-1]
    assert user.split(":")[0] == str(pod_spec(one(objects, "Deployment", "web"))["securityContext"]["runAsUser"])


MODEL_STACK = {"torch", "torchvision", "timm", "segmentation-models-pytorch", "onnxruntime", "bentoml", "mlflow",
               "scipy", "albumentations"}
# The torch-free core of the model layer that the site may import (pyproject.toml's main dependencies cover it).
TORCH_FREE_CORE = {"skin_models.labels", "skin_models.context", "skin_models.imaging", "skin_models.contract"}


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=~! ;]", line.strip(), maxsplit=1)[0].lower() for line in requirements}


def _expand(extra: str, project: dict[str, Any]) -> set[str]:
    """The names an extra installs, following self-references like drskin[serve]."""
    names: set[str] = set()
    for requirement in project["optional-dependencies"][extra]:
        if requirement.startswith("drskin["):
            for inner in requirement[len("drskin["):-1].split(","):
                names |= _expand(inner.strip(), project)
        else:
            names |= _requirement_names([requirement])
    return names


def test_site_image_installs_no_model_stack() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    site = _requirement_names(project["dependencies"]) | _expand("web", project)
    assert {"litestar", "alembic", "asyncpg", "httpx", "pydantic", "pillow"} <= site
    assert not site & MODEL_STACK, site & MODEL_STACK
    assert {"onnxruntime", "bentoml", "scipy"} <= _expand("serve", project)
    assert not {"torch", "torchvision", "timm", "segmentation-models-pytorch"} & _expand("serve", project)
    assert MODEL_STACK - {"albumentations", "mlflow"} <= _expand("serve", project) | _expand("torch", project)
    assert _expand("all", project) | _requirement_names(project["dependencies"]) >= site | _expand("train", project)
    runs = [args for keyword, args in dockerfile_instructions(DOCKERFILE) if keyword == "RUN"]
    assert any('pip install "/src[web]"' in args for args in runs), "the site image installs drskin[web]"
    copied = [args.split()[0] for keyword, args in dockerfile_instructions(DOCKERFILE) if keyword == "COPY"
              and "--from" not in args]
    assert not any(source.startswith(("training", "service.py", "docker/")) for source in copied), copied


def test_the_site_imports_only_the_torch_free_core_of_the_model_layer() -> None:
    imports = re.compile(r"^\s*(?:from|import)\s+(skin_models[\w.]*)", re.MULTILINE)
    used = {name for path in (ROOT / "webapp").rglob("*.py") for name in imports.findall(path.read_text())}
    assert used <= TORCH_FREE_CORE, used - TORCH_FREE_CORE
    for module in TORCH_FREE_CORE:
        source = (ROOT / (module.replace(".", "/") + ".py")).read_text()
        top = {name.split(".")[0] for name in re.findall(r"^(?:from|import)\s+([\w.]+)", source, re.MULTILINE)}
        inner = set(re.findall(r"^(?:from|import)\s+(skin_models[\w.]*)", source, re.MULTILINE))
        assert top - {"skin_models"} <= {"__future__", "dataclasses", "enum", "typing", "collections", "functools",
                                         "math", "io", "warnings", "numpy", "PIL", "pydantic"}, (module, top)
        assert inner <= TORCH_FREE_CORE, (module, inner)


def test_dockerignore_keeps_the_build_context_small() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "an allow list: everything is excluded first"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "skin_models", "webapp"}


def test_the_site_distribution_builds_from_the_image_context_alone(tmp_path: Path) -> None:
    """What Dockerfile.webapp's `pip install "/src[web]"` builds: the wheel from the allow-listed files only has the
    site's templates, translations and migrations and the torch-free core, and its [web] extra pulls no torch."""
    import shutil
    import subprocess
    import sys
    import zipfile

    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("skin_models", "webapp"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("drskin-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert {"skin_models/context.py", "skin_models/labels.py", "webapp/migrations/env.py",
            "webapp/locales/ko/LC_MESSAGES/messages.po", "webapp/templates/base.html",
            "webapp/diseases/pages/library.yaml", "webapp/diseases/pages/mel.ko.md"} <= names
    assert any(n.startswith("webapp/migrations/versions/0004") for n in names)
    web = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and 'extra == "web"' in line]
    assert web and not _requirement_names([line.split(":", 1)[1] for line in web]) & MODEL_STACK


def test_bento_container_user_matches_the_chart() -> None:
    from bentoml._internal.container import generate

    spec = pod_spec(one(rendered("default"), "Deployment", "service"))
    assert spec["securityContext"]["runAsUser"] == generate.BENTO_UID_GID
    assert spec["securityContext"]["runAsGroup"] == generate.BENTO_UID_GID
    # The generated image's entrypoint serves the Bento itself: the chart must not override it.
    assert "command" not in spec["containers"][0] and "args" not in spec["containers"][0]


def test_bento_port_agrees_with_the_chart() -> None:
    if not BENTOFILE.exists():
        pytest.skip("bentofile.yaml does not exist yet (the service's build config is written separately)")
    bentofile = yaml.safe_load(BENTOFILE.read_text()) or {}
    envs = {item["name"]: str(item.get("value", "")) for item in bentofile.get("envs", []) or []}
    bento_port = int(envs.get("BENTOML_PORT", 3000))  # BentoML's default HTTP port
    objects = rendered("default")
    container = service_container(objects)
    assert container["ports"][0]["containerPort"] == bento_port
    # The chart passes the port explicitly too, so a different default in service.py cannot split them.
    assert one(objects, "ConfigMap", "service")["data"]["BENTOML_PORT"] == str(bento_port)
    assert one(objects, "ConfigMap", "service")["data"]["BENTOML_HOST"] == "0.0.0.0"
