// Hash router: `#/<page>` optionally followed by `?filter=value`. Only filter
// values (partner, kind, status, dates, officer, case reference, source) are ever
// placed in the hash — never a query value, which stays in page memory only.

export const ROUTES = ['overview', 'matches', 'query', 'audit', 'trends'] as const;
export type RouteName = (typeof ROUTES)[number];

export interface Route {
  name: RouteName;
  params: URLSearchParams;
}

function isRoute(s: string): s is RouteName {
  return (ROUTES as readonly string[]).includes(s);
}

export function parseHash(hash: string = location.hash): Route | null {
  if (!hash.startsWith('#/')) return null;
  const rest = hash.slice(2);
  const q = rest.indexOf('?');
  const name = q === -1 ? rest : rest.slice(0, q);
  const params = new URLSearchParams(q === -1 ? '' : rest.slice(q + 1));
  return isRoute(name) ? { name, params } : null;
}

export function hrefFor(name: RouteName, params?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  if (params) for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `#/${name}?${s}` : `#/${name}`;
}

/** Records filter changes in the address bar without re-rendering the page (no hashchange is fired). */
export function replaceParams(name: RouteName, params: Record<string, string | undefined>): void {
  history.replaceState(history.state, '', hrefFor(name, params));
}

export function startRouter(render: (route: Route) => void): () => void {
  const onChange = (initial: boolean): void => {
    const route = parseHash();
    if (!route) {
      // Other in-page anchors do not start with "#/"; keep the current page for them.
      if (initial || location.hash === '' || location.hash === '#' || location.hash.startsWith('#/')) {
        history.replaceState(history.state, '', hrefFor('overview'));
        render({ name: 'overview', params: new URLSearchParams() });
      }
      return;
    }
    render(route);
  };
  const listener = (): void => onChange(false);
  window.addEventListener('hashchange', listener);
  onChange(true);
  return () => window.removeEventListener('hashchange', listener);
}
