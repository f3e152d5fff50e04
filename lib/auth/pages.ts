/**
 * Pages only admins may open (each path and everything under it). The proxy sends a viewer to /forbidden before
 * the page renders; the pages check again (requireAdmin).
 */
export const ADMIN_PAGES = ["/databases/new", "/settings", "/activity"];

/** Pages under an admin path that viewers may read too: what they show, viewers may read through the API. */
export const VIEWER_READABLE_PAGES = ["/settings/retention"];

export function isAdminPage(pathname: string): boolean {
  const under = (page: string) => pathname === page || pathname.startsWith(`${page}/`);
  return ADMIN_PAGES.some(under) && !VIEWER_READABLE_PAGES.some(under);
}
