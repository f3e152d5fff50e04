"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { signOut, useSession } from "next-auth/react";
import { useEffect, useId, useRef, useState, useSyncExternalStore } from "react";
import { classes } from "./ui/classes";
import { EnvironmentSwitcher, scopedHref, useEnvironment } from "./environment";

const links = [
  { href: "/changes", label: "Changes" },
  { href: "/databases", label: "Databases" },
  { href: "/storage", label: "Storage" },
];

/** Admins also manage the team and read Retrace's own audit log. */
const adminLinks = [
  { href: "/settings/users", label: "Users" },
  { href: "/settings/tokens", label: "Tokens" },
  { href: "/settings/retention", label: "Retention" },
  { href: "/activity", label: "Activity" },
];

/** On a phone the links are a list in the menu, each a finger's height; from sm up they sit in the row. */
function linkClass(current: boolean): string {
  return classes(
    "block py-2 sm:inline sm:py-0",
    current ? "font-medium text-slate-900" : "text-slate-500 hover:text-slate-900",
  );
}

/** Three bars, drawn; a cross while the menu is open. */
function MenuIcon({ open }: { open: boolean }) {
  return (
    <svg aria-hidden="true" viewBox="0 0 20 20" className="h-5 w-5" fill="none" stroke="currentColor" strokeWidth="2">
      {open ? <path d="M5 5l10 10M15 5L5 15" /> : <path d="M3 5h14M3 10h14M3 15h14" />}
    </svg>
  );
}

const noChanges = () => () => undefined;

/**
 * False while the page hydrates (as on the server), true after. The header is rendered in the browser only, once the
 * session is known: the server renders nothing for it, and hydration must too, or a session that arrived before
 * React hydrated the header's Suspense boundary makes the header differ from the server's HTML (React error #418).
 */
function useHydrated(): boolean {
  return useSyncExternalStore(
    noChanges,
    () => true,
    () => false,
  );
}

export function Nav() {
  const hydrated = useHydrated();
  const pathname = usePathname();
  const environment = useEnvironment();
  const { data: session } = useSession();
  const [open, setOpen] = useState(false);
  const [openedAt, setOpenedAt] = useState(pathname);
  const menuId = useId();
  const button = useRef<HTMLButtonElement>(null);
  // Following a link closes the menu: the page it opens is what the reader wanted.
  if (open && openedAt !== pathname) setOpen(false);

  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      // Escape closes the menu and nothing else (a change's page would also take it as "back to the list").
      event.preventDefault();
      setOpen(false);
      button.current?.focus();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [open]);

  if (!hydrated || !session?.user) return null;
  const admin = session.user.role === "admin";
  return (
    <header className="border-b border-slate-200 bg-white">
      {/*
        On a phone one row holds the brand, the environment switcher and a Menu button; the links, the email and
        Sign out open below it from that button. From the sm breakpoint up the menu's box gives way (display:
        contents) and its pieces sit in the row beside the switcher, the email from md up, truncated when long.
      */}
      <nav
        className={classes(
          "mx-auto flex max-w-7xl flex-wrap items-center gap-x-3 gap-y-2 px-4 py-3",
          // An admin's links take a row of their own below lg (lib/auth/pages.ts's pages); one row from there up.
          admin ? "lg:flex-nowrap" : "sm:flex-nowrap",
          "sm:gap-6 sm:px-6",
        )}
        aria-label="Main"
      >
        {/* A row of its own on a phone that never wraps (the switcher shrinks instead); in the nav's row from sm. */}
        <div className="flex w-full min-w-0 items-center gap-3 sm:contents">
          <Link
            href={scopedHref("/changes", environment)}
            className="shrink-0 font-semibold tracking-tight text-indigo-700"
          >
            Retrace
          </Link>
          <EnvironmentSwitcher className="min-w-0 sm:order-1" />
          <button
            ref={button}
            type="button"
            aria-expanded={open}
            aria-controls={menuId}
            onClick={() => {
              setOpenedAt(pathname);
              setOpen(!open);
            }}
            className={classes(
              "ml-auto flex shrink-0 items-center gap-1 rounded-md border border-slate-300 px-2 py-1",
              "text-sm font-medium text-slate-700 hover:bg-slate-50 sm:hidden",
            )}
          >
            <MenuIcon open={open} />
            Menu
          </button>
        </div>
        <div
          id={menuId}
          className={classes(open ? "flex" : "hidden", "w-full flex-col border-t border-slate-200 pt-1 sm:contents")}
        >
          {links.map((link) => (
            <Link
              key={link.href}
              href={scopedHref(link.href, environment)}
              aria-current={pathname.startsWith(link.href) ? "page" : undefined}
              className={linkClass(pathname.startsWith(link.href))}
            >
              {link.label}
            </Link>
          ))}
          {admin ? (
            <div
              className={classes(
                "flex flex-col border-t border-slate-100 sm:order-last sm:w-full sm:flex-row sm:gap-6",
                "sm:border-0 sm:text-sm lg:order-none lg:w-auto lg:text-base",
              )}
            >
              {adminLinks.map((link) => (
                <Link
                  key={link.href}
                  href={link.href}
                  aria-current={pathname.startsWith(link.href) ? "page" : undefined}
                  className={linkClass(pathname.startsWith(link.href))}
                >
                  {link.label}
                </Link>
              ))}
            </div>
          ) : null}
          <div className="flex items-center gap-3 border-t border-slate-100 pt-2 sm:contents">
            <span
              className="min-w-0 truncate text-sm text-slate-500 sm:order-2 sm:hidden md:ml-auto md:block"
              title={session.user.email ?? ""}
            >
              {session.user.email}
            </span>
            <button
              type="button"
              onClick={() => signOut({ callbackUrl: "/login" })}
              title={session.user.email ? `Signed in as ${session.user.email}` : undefined}
              className={classes(
                "ml-auto shrink-0 whitespace-nowrap py-2 text-sm text-slate-500 hover:text-slate-900",
                "sm:order-2 sm:py-0 md:ml-0",
              )}
            >
              Sign out
            </button>
          </div>
        </div>
      </nav>
    </header>
  );
}
