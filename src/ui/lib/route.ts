// Hash routes (#/ and #/playground, with query parameters after them), so the server serves one page at / and /ui.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  readonly page: "dashboard" | "playground";
  readonly params: URLSearchParams;
}

function current(): Route {
  const url = new URL(location.hash.slice(1) || "/", location.origin);
  return { page: url.pathname === "/playground" ? "playground" : "dashboard", params: url.searchParams };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const onChange = () => setRoute(current());
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
