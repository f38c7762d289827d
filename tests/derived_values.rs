//! Value sets derived from the chart's documentation, each checking the fields the chart
//! says the values change.

mod support;

use serde_json::{Value, json};
use skyctl::manifest::to_yaml_stream;
use skyctl::render::{AdmissionCertificate, render};
use support::render::{named, render_release, render_skypilot, values_with};

const DEFAULT_HOOK: &str = "# Run commands before deploying the API server, e.g. installing an admin\n\
# policy. Remember to set the admin policy in the config section below.\n\
echo \"Pre-deploy hook\"\n\
\n\
# Uncomment the following lines to install the admin policy\n\
\n\
# echo \"Installing admin policy\"\n\
# pip install git+https://github.com/michaelvll/admin-policy-examples";

const START_SERVER: &str = "if sky api start -h | grep -q -- \"--foreground\"; then\n  exec sky api start --deploy --foreground\nelse\n  # For backward compatibility, run in background if --foreground is not supported.\n  # TODO(aylei): this will bedropped in 0.11.0.\n  if sky api start --deploy; then\n    tail -n+0 -f /root/.sky/api_server/server.log\n  else\n    cat /root/.sky/api_server/server.log\n  fi\nfi\n";

const INGRESS_NGINX_OBJECTS: [(&str, &str); 11] = [
    ("ServiceAccount", "skypilot-ingress-nginx"),
    ("Secret", "skypilot-ingress-nginx-admission"),
    ("ConfigMap", "skypilot-ingress-nginx-controller"),
    ("ClusterRole", "skypilot-ingress-nginx"),
    ("ClusterRoleBinding", "skypilot-ingress-nginx"),
    ("Role", "skypilot-ingress-nginx"),
    ("RoleBinding", "skypilot-ingress-nginx"),
    ("Service", "skypilot-ingress-nginx-controller-admission"),
    ("Service", "skypilot-ingress-nginx-controller"),
    ("Deployment", "skypilot-ingress-nginx-controller"),
    ("IngressClass", "nginx"),
];

fn start_script(container: &Value) -> &str {
    assert_eq!(container["args"][0], "/bin/sh");
    assert_eq!(container["args"][1], "-c");
    container["args"][2].as_str().unwrap()
}

fn controller_args(rendered: &support::render::Rendered, controller: &str) -> Vec<String> {
    let deployment = rendered.object("Deployment", controller);
    deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arg| arg.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn gcp_credentials_add_an_init_container_that_sets_the_project() {
    let rendered =
        render_skypilot(json!({"gcpCredentials": {"enabled": true, "projectId": "my-project"}}));
    let pod = rendered.api_pod_spec();
    let init = named(&pod["initContainers"], "setup-gcp-credentials").expect("gcp init container");
    assert_eq!(init["image"], "google/cloud-sdk:latest");
    assert_eq!(init["command"], json!(["/bin/sh", "-c"]));
    assert_eq!(
        init["args"],
        json!([
            "gcloud auth activate-service-account --key-file=/root/gcp-cred.json\ngcloud config set project my-project\n"
        ])
    );
    assert_eq!(
        init["env"],
        json!([{"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": "/root/gcp-cred.json"}])
    );
    assert_eq!(
        init["volumeMounts"],
        json!([
            {"name": "gcp-credentials", "mountPath": "/root/gcp-cred.json", "subPath": "gcp-cred.json"},
            {"name": "gcp-config", "mountPath": "/root/.config/gcloud"}
        ])
    );
    let container = rendered.api_container();
    assert_eq!(
        named(&container["env"], "GOOGLE_APPLICATION_CREDENTIALS").unwrap()["value"],
        "/root/gcp-cred.json"
    );
    assert_eq!(
        named(&container["volumeMounts"], "gcp-config").unwrap()["mountPath"],
        "/root/.config/gcloud"
    );
    assert_eq!(
        named(&container["volumeMounts"], "gcp-credentials").unwrap(),
        &json!({"name": "gcp-credentials", "mountPath": "/root/gcp-cred.json", "subPath": "gcp-cred.json"})
    );
    assert_eq!(
        named(&pod["volumes"], "gcp-credentials").unwrap()["secret"],
        json!({"secretName": "gcp-credentials"})
    );
    assert_eq!(
        named(&pod["volumes"], "gcp-config").unwrap()["emptyDir"],
        json!({})
    );
}

#[test]
fn gcp_credentials_without_a_project_set_an_empty_project_as_the_chart_does() {
    let rendered = render_skypilot(json!({"gcpCredentials": {"enabled": true}}));
    let init = named(
        &rendered.api_pod_spec()["initContainers"],
        "setup-gcp-credentials",
    )
    .unwrap();
    assert!(
        init["args"][0]
            .as_str()
            .unwrap()
            .ends_with("gcloud config set project \n")
    );
}

#[test]
fn no_cloud_credentials_leave_init_containers_null() {
    let rendered = render_skypilot(json!({}));
    assert!(rendered.api_pod_spec()["initContainers"].is_null());
    assert!(
        rendered
            .api_pod_spec()
            .as_object()
            .unwrap()
            .contains_key("initContainers")
    );
}

#[test]
fn load_balancer_without_node_ports_leaves_port_choice_to_kubernetes() {
    let rendered = render_skypilot(json!({
        "ingress": {"httpNodePort": null, "httpsNodePort": null},
        "ingress-nginx": {"controller": {"service": {"type": "LoadBalancer"}}}
    }));
    let controller = rendered.object("Service", "skypilot-ingress-nginx-controller");
    assert_eq!(controller["spec"]["type"], "LoadBalancer");
    assert!(
        controller["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|port| port.get("nodePort").is_none())
    );
    let node_port = rendered.object("Service", "skypilot-ingress-controller-np");
    assert_eq!(node_port["spec"]["type"], "NodePort");
    for port in node_port["spec"]["ports"].as_array().unwrap() {
        assert!(port.get("nodePort").is_none(), "{port}");
    }
}

#[test]
fn load_balancer_settings_reach_the_controller_service() {
    let rendered = render_skypilot(json!({"ingress-nginx": {"controller": {"service": {
        "type": "LoadBalancer",
        "annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
        "loadBalancerIP": "203.0.113.7",
        "loadBalancerSourceRanges": ["10.0.0.0/8"],
        "loadBalancerClass": "service.k8s.aws/nlb",
        "externalTrafficPolicy": "Local",
        "nodePorts": {"http": 31080, "https": "31443"}
    }}}}));
    let service = rendered.object("Service", "skypilot-ingress-nginx-controller");
    assert_eq!(
        service["metadata"]["annotations"],
        json!({"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"})
    );
    let spec = &service["spec"];
    assert_eq!(spec["loadBalancerIP"], "203.0.113.7");
    assert_eq!(spec["loadBalancerSourceRanges"], json!(["10.0.0.0/8"]));
    assert_eq!(spec["loadBalancerClass"], "service.k8s.aws/nlb");
    assert_eq!(spec["externalTrafficPolicy"], "Local");
    assert_eq!(named(&spec["ports"], "http").unwrap()["nodePort"], 31080);
    assert_eq!(named(&spec["ports"], "https").unwrap()["nodePort"], 31443);
}

#[test]
fn node_ports_are_ignored_on_a_cluster_ip_controller_service() {
    let rendered = render_skypilot(
        json!({"ingress-nginx": {"controller": {"service": {"nodePorts": {"http": 31080}}}}}),
    );
    let service = rendered.object("Service", "skypilot-ingress-nginx-controller");
    assert!(
        named(&service["spec"]["ports"], "http")
            .unwrap()
            .get("nodePort")
            .is_none()
    );
}

#[test]
fn every_storage_option_reaches_the_claim() {
    let rendered = render_skypilot(json!({"storage": {
        "storageClassName": "fast-ssd",
        "accessMode": "ReadWriteMany",
        "size": "50Gi",
        "selector": {"matchLabels": {"environment": "prod"}},
        "volumeName": "pv-skypilot",
        "annotations": {"backup.example.com/policy": "daily"}
    }}));
    let claim = rendered.object("PersistentVolumeClaim", "skypilot-state");
    assert_eq!(
        claim["metadata"]["annotations"],
        json!({"backup.example.com/policy": "daily"})
    );
    assert_eq!(
        claim["spec"],
        json!({
            "storageClassName": "fast-ssd",
            "volumeName": "pv-skypilot",
            "accessModes": ["ReadWriteMany"],
            "resources": {"requests": {"storage": "50Gi"}},
            "selector": {"matchLabels": {"environment": "prod"}}
        })
    );
}

#[test]
fn default_storage_sets_only_access_mode_and_size() {
    let rendered = render_skypilot(json!({}));
    let claim = rendered.object("PersistentVolumeClaim", "skypilot-state");
    assert!(claim["metadata"].get("annotations").is_none());
    assert_eq!(
        claim["spec"],
        json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}})
    );
}

#[test]
fn disabled_storage_declares_an_empty_dir_that_nothing_mounts() {
    let rendered = render_skypilot(json!({"storage": {"enabled": false}}));
    assert!(
        rendered
            .get("PersistentVolumeClaim", "skypilot-state")
            .is_none()
    );
    let pod = rendered.api_pod_spec();
    assert_eq!(
        pod["volumes"],
        json!([{"name": "state-volume", "emptyDir": {}}])
    );
    assert!(rendered.api_container()["volumeMounts"].is_null());
}

#[test]
fn config_and_pre_deploy_hook_shape_the_start_script() {
    let config = "admin_policy: admin_policy_examples.AddLabelsPolicy\nallowed_clouds:\n  - aws\n";
    let rendered = render_skypilot(
        json!({"apiService": {"config": config, "preDeployHook": "pip install my-policy\necho done"}}),
    );
    let expected = format!(
        "set -e\n\npip install my-policy\necho done\nmkdir -p /root/.sky\n\
         echo \"Copying config.yaml from ConfigMap \\`skypilot-config\\` to /root/.sky/config.yaml\"\n\
         # The configmap serves as the ground truth for the config.yaml file.\n\
         # Any local changes to the config.yaml file will be overwritten by the contents of the configmap.\n\
         cp /tmp/config.yaml /root/.sky/config.yaml\n\n{START_SERVER}"
    );
    assert_eq!(start_script(rendered.api_container()), expected);

    let config_map = rendered.object("ConfigMap", "skypilot-config");
    assert_eq!(config_map["data"], json!({"config.yaml": config}));
    assert_eq!(
        named(&rendered.api_container()["volumeMounts"], "skypilot-config").unwrap(),
        &json!({"name": "skypilot-config", "mountPath": "/tmp/config.yaml", "subPath": "config.yaml"})
    );
    assert_eq!(
        named(&rendered.api_pod_spec()["volumes"], "skypilot-config").unwrap()["configMap"],
        json!({"name": "skypilot-config"})
    );
}

#[test]
fn default_start_script_runs_the_default_hook() {
    let rendered = render_skypilot(json!({}));
    assert_eq!(
        start_script(rendered.api_container()),
        format!("set -e\n\n{DEFAULT_HOOK}\n\n{START_SERVER}")
    );
    assert!(rendered.get("ConfigMap", "skypilot-config").is_none());
}

#[test]
fn a_null_pre_deploy_hook_removes_the_step() {
    let rendered = render_skypilot(json!({"apiService": {"preDeployHook": null}}));
    assert_eq!(
        start_script(rendered.api_container()),
        format!("set -e\n\n{START_SERVER}")
    );
}

#[test]
fn an_existing_auth_secret_replaces_the_generated_one() {
    let rendered = render_skypilot(json!({"ingress": {"authSecret": "team-htpasswd"}}));
    assert!(rendered.get("Secret", "skypilot-basic-auth").is_none());
    let ingress = rendered.object("Ingress", "skypilot-ingress");
    assert_eq!(
        ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-secret"],
        "team-htpasswd"
    );
    assert_eq!(
        ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-type"],
        "basic"
    );
}

#[test]
fn without_credentials_or_secret_the_ingress_still_points_at_the_missing_basic_auth_secret() {
    let rendered = render_skypilot(json!({"ingress": {"authCredentials": ""}}));
    assert!(rendered.get("Secret", "skypilot-basic-auth").is_none());
    let ingress = rendered.object("Ingress", "skypilot-ingress");
    assert_eq!(
        ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-secret"],
        "skypilot-basic-auth"
    );
}

#[test]
fn a_sub_path_rewrites_requests_to_the_server_root() {
    let rendered = render_skypilot(json!({"ingress": {"path": "/skypilot"}}));
    let ingress = rendered.object("Ingress", "skypilot-ingress");
    assert_eq!(
        ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"],
        "/$2"
    );
    let path = &ingress["spec"]["rules"][0]["http"]["paths"][0];
    assert_eq!(path["pathType"], "ImplementationSpecific");
    assert_eq!(path["path"], "/skypilot(/|$)(.*)");
    assert_eq!(
        path["backend"]["service"],
        json!({"name": "skypilot-api-service", "port": {"number": 80}})
    );
}

#[test]
fn api_server_settings_reach_the_container() {
    let rendered = render_skypilot(json!({
        "apiService": {"image": "example/skypilot:1.0", "replicas": 2, "skypilotDev": true,
                       "resources": {"requests": {"cpu": "4", "memory": "8Gi"}}},
        "kubernetesCredentials": {"inclusterNamespace": "workloads", "useApiServerCluster": false}
    }));
    let container = rendered.api_container();
    assert_eq!(container["image"], "example/skypilot:1.0");
    assert_eq!(
        container["resources"],
        json!({"requests": {"cpu": "4", "memory": "8Gi"}})
    );
    assert_eq!(
        named(&container["env"], "SKYPILOT_DEV").unwrap()["value"],
        "true"
    );
    assert_eq!(
        named(&container["env"], "SKYPILOT_IN_CLUSTER_NAMESPACE").unwrap()["value"],
        "workloads"
    );
    assert_eq!(
        rendered.api_pod_spec()["automountServiceAccountToken"],
        false
    );
    assert_eq!(
        rendered.object("Deployment", "skypilot-api-server")["spec"]["replicas"],
        2
    );
}

#[test]
fn rbac_rules_become_the_cluster_role() {
    let rules = json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]);
    let rendered = render_skypilot(json!({"rbac": {"rules": rules}}));
    assert_eq!(
        rendered.object("ClusterRole", "skypilot-api-role")["rules"],
        rules
    );
}

#[test]
fn another_release_and_namespace_rename_everything_consistently() {
    let rendered = render_release("prod", "team-a", json!({}));
    for manifest in &rendered.manifests {
        assert!(
            manifest.id.name.starts_with("prod-") || manifest.id.name == "nginx",
            "{}",
            manifest.id.name
        );
        let cluster_scoped = [
            "ClusterRole",
            "ClusterRoleBinding",
            "IngressClass",
            "ValidatingWebhookConfiguration",
        ];
        let expected_namespace =
            (!cluster_scoped.contains(&manifest.id.kind.as_str())).then_some("team-a");
        assert_eq!(
            manifest.id.namespace.as_deref(),
            expected_namespace,
            "{}/{}",
            manifest.id.kind,
            manifest.id.name
        );
    }

    let api_binding = rendered.object("ClusterRoleBinding", "prod-api-role-binding");
    assert_eq!(
        api_binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "prod-api-sa", "namespace": "team-a"}])
    );
    assert_eq!(api_binding["roleRef"]["name"], "prod-api-role");
    let nginx_binding = rendered.object("ClusterRoleBinding", "prod-ingress-nginx");
    assert_eq!(nginx_binding["subjects"][0]["namespace"], "team-a");

    assert_eq!(
        rendered.object("Service", "prod-api-service")["spec"]["selector"],
        json!({"app": "prod-api"})
    );
    let api = rendered.object("Deployment", "prod-api-server");
    assert_eq!(
        api["spec"]["selector"]["matchLabels"],
        json!({"app": "prod-api"})
    );
    assert_eq!(
        api["spec"]["template"]["metadata"]["labels"],
        json!({"app": "prod-api"})
    );
    assert_eq!(
        api["spec"]["template"]["spec"]["serviceAccountName"],
        "prod-api-sa"
    );
    assert_eq!(
        named(&api["spec"]["template"]["spec"]["volumes"], "state-volume").unwrap()["persistentVolumeClaim"]
            ["claimName"],
        "prod-state"
    );

    let node_port = rendered.object("Service", "prod-ingress-controller-np");
    assert_eq!(
        node_port["spec"]["selector"]["app.kubernetes.io/instance"],
        "prod"
    );
    let controller_service = rendered.object("Service", "prod-ingress-nginx-controller");
    assert_eq!(
        controller_service["spec"]["selector"]["app.kubernetes.io/instance"],
        "prod"
    );

    let args = controller_args(&rendered, "prod-ingress-nginx-controller");
    assert!(
        args.contains(
            &"--publish-service=$(POD_NAMESPACE)/prod-ingress-nginx-controller".to_owned()
        )
    );
    assert!(args.contains(&"--election-id=prod-ingress-nginx-leader".to_owned()));
    assert!(
        args.contains(&"--configmap=$(POD_NAMESPACE)/prod-ingress-nginx-controller".to_owned())
    );
    let role = rendered.object("Role", "prod-ingress-nginx");
    assert!(
        role["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|rule| rule["resourceNames"] == json!(["prod-ingress-nginx-leader"]))
    );

    let webhook = rendered.object(
        "ValidatingWebhookConfiguration",
        "prod-ingress-nginx-admission",
    );
    assert_eq!(
        webhook["webhooks"][0]["clientConfig"]["service"],
        json!({"name": "prod-ingress-nginx-controller-admission", "namespace": "team-a", "port": 443, "path": "/networking/v1/ingresses"})
    );
    assert!(
        rendered
            .get("Service", "prod-ingress-nginx-controller-admission")
            .is_some()
    );
    assert!(
        rendered
            .get("Secret", "prod-ingress-nginx-admission")
            .is_some()
    );
    assert!(rendered.get("Secret", "prod-basic-auth").is_some());
    assert_eq!(
        rendered.object("Ingress", "prod-ingress")["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-secret"],
        "prod-basic-auth"
    );
    assert!(rendered.certificate.is_valid_for(&rendered.release));
}

#[test]
fn a_release_named_after_ingress_nginx_is_not_named_twice() {
    let rendered = render_release("edge-ingress-nginx", "edge", json!({}));
    assert!(
        rendered
            .get("Deployment", "edge-ingress-nginx-controller")
            .is_some()
    );
    assert!(
        rendered
            .get("ServiceAccount", "edge-ingress-nginx")
            .is_some()
    );
    assert!(
        rendered
            .get("Deployment", "edge-ingress-nginx-api-server")
            .is_some()
    );
}

#[test]
fn disabling_the_ingress_removes_only_the_ingress() {
    let all = render_skypilot(json!({}));
    let without = render_skypilot(json!({"ingress": {"enabled": false}}));
    let mut expected = all.identities();
    expected.retain(|id| id != "Ingress/skypilot-ingress");
    assert_eq!(without.identities(), expected);
}

#[test]
fn disabling_ingress_nginx_removes_the_controller_and_the_node_port_service() {
    let all = render_skypilot(json!({}));
    let without = render_skypilot(json!({"ingress-nginx": {"enabled": false}}));
    let mut removed: Vec<(&str, &str)> = INGRESS_NGINX_OBJECTS.to_vec();
    removed.push((
        "ValidatingWebhookConfiguration",
        "skypilot-ingress-nginx-admission",
    ));
    removed.push(("Service", "skypilot-ingress-controller-np"));
    let mut expected = all.identities();
    expected.retain(|id| {
        !removed
            .iter()
            .any(|(kind, name)| *id == format!("{kind}/{name}"))
    });
    assert_eq!(without.identities(), expected);
    assert!(without.get("Ingress", "skypilot-ingress").is_some());
}

#[test]
fn disabling_the_node_port_service_keeps_the_controller() {
    let rendered = render_skypilot(json!({"ingress": {"nodePortEnabled": false}}));
    assert!(
        rendered
            .get("Service", "skypilot-ingress-controller-np")
            .is_none()
    );
    assert!(
        rendered
            .get("Deployment", "skypilot-ingress-nginx-controller")
            .is_some()
    );
}

#[test]
fn disabling_admission_webhooks_removes_the_webhook_and_its_certificate() {
    let rendered = render_skypilot(
        json!({"ingress-nginx": {"controller": {"admissionWebhooks": {"enabled": false}}}}),
    );
    assert!(
        rendered
            .get(
                "ValidatingWebhookConfiguration",
                "skypilot-ingress-nginx-admission"
            )
            .is_none()
    );
    assert!(
        rendered
            .get("Secret", "skypilot-ingress-nginx-admission")
            .is_none()
    );
    assert!(
        rendered
            .get("Service", "skypilot-ingress-nginx-controller-admission")
            .is_none()
    );
    let controller = rendered.object("Deployment", "skypilot-ingress-nginx-controller");
    let pod = &controller["spec"]["template"]["spec"];
    assert!(pod.get("volumes").is_none());
    assert!(pod["containers"][0].get("volumeMounts").is_none());
    assert!(named(&pod["containers"][0]["ports"], "webhook").is_none());
    assert!(
        !controller_args(&rendered, "skypilot-ingress-nginx-controller")
            .iter()
            .any(|arg| arg.contains("webhook"))
    );
}

#[test]
fn webhook_failure_policy_is_configurable() {
    let rendered = render_skypilot(
        json!({"ingress-nginx": {"controller": {"admissionWebhooks": {"failurePolicy": "Ignore"}}}}),
    );
    let webhook = rendered.object(
        "ValidatingWebhookConfiguration",
        "skypilot-ingress-nginx-admission",
    );
    assert_eq!(webhook["webhooks"][0]["failurePolicy"], "Ignore");
}

#[test]
fn several_controller_replicas_get_a_disruption_budget_applied_first() {
    let rendered = render_skypilot(json!({"ingress-nginx": {"controller": {"replicaCount": 2}}}));
    let budget = rendered.object("PodDisruptionBudget", "skypilot-ingress-nginx-controller");
    assert_eq!(budget["spec"]["minAvailable"], 1);
    assert_eq!(
        budget["spec"]["selector"]["matchLabels"],
        json!({"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/instance": "skypilot", "app.kubernetes.io/component": "controller"})
    );
    assert_eq!(rendered.manifests[0].id.kind, "PodDisruptionBudget");
    assert_eq!(
        rendered.object("Deployment", "skypilot-ingress-nginx-controller")["spec"]["replicas"],
        2
    );
    assert!(
        render_skypilot(json!({}))
            .get("PodDisruptionBudget", "skypilot-ingress-nginx-controller")
            .is_none()
    );
}

#[test]
fn controller_pod_settings_reach_the_deployment() {
    let rendered = render_skypilot(
        json!({"ingress-nginx": {"revisionHistoryLimit": 3, "controller": {
            "image": {"registry": "mirror.example.com", "tag": "v1.11.3-custom", "digest": "", "pullPolicy": "Always"},
            "resources": {"limits": {"memory": "512Mi"}},
            "nodeSelector": {"pool": "edge"},
            "tolerations": [{"key": "edge", "operator": "Exists", "effect": "NoSchedule"}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}},
            "podAnnotations": {"prometheus.io/scrape": "true", "example.com/weight": 3},
            "priorityClassName": "system-cluster-critical",
            "terminationGracePeriodSeconds": 60,
            "extraEnvs": [{"name": "TZ", "value": "UTC"}]
        }}}),
    );
    let deployment = rendered.object("Deployment", "skypilot-ingress-nginx-controller");
    assert_eq!(deployment["spec"]["revisionHistoryLimit"], 3);
    let pod = &deployment["spec"]["template"];
    assert_eq!(
        pod["metadata"]["annotations"],
        json!({"prometheus.io/scrape": "true", "example.com/weight": "3"})
    );
    let spec = &pod["spec"];
    let container = &spec["containers"][0];
    assert_eq!(
        container["image"],
        "mirror.example.com/ingress-nginx/controller:v1.11.3-custom"
    );
    assert_eq!(container["imagePullPolicy"], "Always");
    assert_eq!(
        container["resources"],
        json!({"limits": {"memory": "512Mi"}, "requests": {"cpu": "100m", "memory": "90Mi"}})
    );
    assert_eq!(named(&container["env"], "TZ").unwrap()["value"], "UTC");
    assert_eq!(container["env"].as_array().unwrap().len(), 4);
    assert_eq!(
        spec["nodeSelector"],
        json!({"kubernetes.io/os": "linux", "pool": "edge"})
    );
    assert_eq!(spec["tolerations"][0]["key"], "edge");
    assert_eq!(
        spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
            [0]["matchExpressions"][0]["values"],
        json!(["a"])
    );
    assert_eq!(spec["priorityClassName"], "system-cluster-critical");
    assert_eq!(spec["terminationGracePeriodSeconds"], 60);
}

#[test]
fn controller_config_entries_are_strings_in_the_config_map() {
    let rendered = render_skypilot(json!({"ingress-nginx": {"controller": {
        "config": {"use-forwarded-headers": true, "proxy-body-size": "0", "worker-processes": 4},
        "allowSnippetAnnotations": true
    }}}));
    let data = &rendered.object("ConfigMap", "skypilot-ingress-nginx-controller")["data"];
    assert_eq!(data["allow-snippet-annotations"], "true");
    assert_eq!(data["use-forwarded-headers"], "true");
    assert_eq!(data["proxy-body-size"], "0");
    assert_eq!(data["worker-processes"], "4");
    assert!(
        data["http-snippet"]
            .as_str()
            .unwrap()
            .starts_with("map $http_upgrade")
    );
}

#[test]
fn extra_args_become_flags_and_update_status_false_drops_the_status_permission() {
    let rendered = render_skypilot(
        json!({"ingress-nginx": {"controller": {"extraArgs": {"update-status": "false", "v": 2, "enable-ssl-passthrough": ""}}}}),
    );
    let args = controller_args(&rendered, "skypilot-ingress-nginx-controller");
    let tail: Vec<&str> = args
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        ["--enable-ssl-passthrough", "--update-status=false", "--v=2"]
    );
    let role = rendered.object("Role", "skypilot-ingress-nginx");
    assert!(
        !role["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|rule| rule["resources"] == json!(["ingresses/status"]))
    );
    let default_role = render_skypilot(json!({}))
        .object("Role", "skypilot-ingress-nginx")
        .clone();
    assert!(
        default_role["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|rule| rule["resources"] == json!(["ingresses/status"]))
    );
}

#[test]
fn whole_numbers_from_a_values_file_render_as_integers() {
    let values = values_with(json!({"apiService": {"replicas": 3.0}}));
    let release = support::render::release("skypilot", "skypilot");
    let certificate = AdmissionCertificate::generate(&release).unwrap();
    let chart = skyctl::chart::Chart::find(skyctl::chart::SEED_ERA).unwrap();
    let lookups = std::sync::Arc::new(skyctl::render::Lookups::none());
    let manifests = render(chart, &values, &release, &certificate, &lookups).unwrap();
    let api = manifests
        .iter()
        .find(|m| m.id.name == "skypilot-api-server")
        .unwrap();
    assert_eq!(api.object["spec"]["replicas"], json!(3));
}

#[test]
fn the_template_stream_reads_back_as_the_same_objects() {
    let rendered = render_skypilot(
        json!({"apiService": {"config": "a: 1\n"}, "gcpCredentials": {"enabled": true}}),
    );
    let stream = to_yaml_stream(&rendered.manifests);
    assert!(stream.starts_with("---\napiVersion: v1\nkind: ServiceAccount\n"));
    let back: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&stream)
        .map(|document| serde::Deserialize::deserialize(document).unwrap())
        .collect();
    let objects: Vec<Value> = rendered
        .manifests
        .iter()
        .map(|m| m.object.clone())
        .collect();
    assert_eq!(back, objects);
}
