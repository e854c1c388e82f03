// A function of top-level arguments, as argocd-example-apps' guestbook with
// its parameters passed by the Application.
local params = import 'params.libsonnet';
local labels = import 'labels.libsonnet';

function(replicas=1, containerPort=80)
  [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: params.name, labels: labels.common },
      spec: {
        ports: [{ port: params.servicePort, targetPort: containerPort }],
        selector: { app: params.name },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: params.name, labels: labels.common },
      spec: {
        replicas: replicas,
        revisionHistoryLimit: 3,
        selector: { matchLabels: { app: params.name } },
        template: {
          metadata: { labels: { app: params.name } },
          spec: {
            containers: [{
              name: params.name,
              image: params.image,
              ports: [{ containerPort: containerPort }],
            }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'List',
      items: [{
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: params.name + '-env' },
        data: { env: std.extVar('env'), namespace: std.extVar('namespace'), tier: std.toString(std.extVar('tier')) },
      }],
    },
  ]
