{
  common: { 'app.kubernetes.io/part-of': 'guestbook', environment: std.extVar('env') },
}
