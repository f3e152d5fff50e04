/**
 * Pages only admins may open (each path and everything under it). The proxy sends a viewer to /forbidden before
 * the page renders; the pages check again (requireAdmin).
 */
export const ADMIN_PAGES = ["/databases/new", "/settings", "/activity"];

export function isAdminPage(pathname: string): boolean {
  return ADMIN_PAGES.some((page) => pathname === page || pathname.startsWith(`${page}/`));
}
