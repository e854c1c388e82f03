{
  name: 'jsonnet-guestbook-ui',
  image: 'gcr.io/heptio-images/ks-guestbook-demo:0.2',
  servicePort: 80,
}
