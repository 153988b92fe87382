import type { DatabaseSpec } from './config';

/** The cluster a database is on: its declared `cluster`, else HOST:PORT of its admin URL. */
export function clusterOf(spec: Pick<DatabaseSpec, 'cluster' | 'url'>): string {
  if (spec.cluster) return spec.cluster;
  try {
    const url = new URL(spec.url);
    return `${decodeURIComponent(url.hostname) || 'localhost'}:${url.port || '5432'}`;
  } catch {
    return 'unknown';
  }
}
