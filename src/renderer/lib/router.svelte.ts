// The current route as reactive state, kept in step with location.hash.
import { hrefOf, parseHash, type Route, type Screen } from './route.js';

class Router {
  current = $state<Route>(parseHash(location.hash));

  constructor() {
    window.addEventListener('hashchange', () => (this.current = parseHash(location.hash)));
  }

  go(screen: Screen, id?: number | null): void {
    const href = hrefOf(screen, id);
    if (location.hash !== href) location.hash = href;
    else this.current = parseHash(href);
  }
}

export const router = new Router();
