// How an SSH destination is named in messages, logs and the connection pool.

/** `user@host:port` */
export function destinationOf(c: { user: string; host: string; port: number }): string {
  return `${c.user}@${c.host}:${c.port}`;
}
