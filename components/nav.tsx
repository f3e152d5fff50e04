"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { signOut, useSession } from "next-auth/react";
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

function linkClass(current: boolean): string {
  return current ? "font-medium text-slate-900" : "text-slate-500 hover:text-slate-900";
}

export function Nav() {
  const pathname = usePathname();
  const environment = useEnvironment();
  const { data: session } = useSession();
  if (!session?.user) return null;
  return (
    <header className="border-b border-slate-200 bg-white">
      {/*
        On a phone the first row holds the brand, the links and Sign out, and the environment switcher has a row of
        its own; from the sm breakpoint up it sits beside the links. The email joins from md up, truncated when
        long, and is in Sign out's title meanwhile.
      */}
      <nav
        className={classes(
          "mx-auto flex max-w-7xl flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3",
          // An admin's links take a row of their own below lg (lib/auth/pages.ts's pages); one row from there up.
          session.user.role === "admin" ? "lg:flex-nowrap" : "sm:flex-nowrap",
          "sm:gap-6 sm:px-6",
        )}
        aria-label="Main"
      >
        <Link
          href={scopedHref("/changes", environment)}
          className="shrink-0 font-semibold tracking-tight text-indigo-700"
        >
          Retrace
        </Link>
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
        {session.user.role === "admin" ? (
          <div className="order-last flex w-full gap-4 text-sm sm:gap-6 lg:order-none lg:w-auto lg:text-base">
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
        <EnvironmentSwitcher className="order-last w-full sm:order-none sm:w-auto" />
        <span
          className="ml-auto hidden min-w-0 truncate text-sm text-slate-500 md:block"
          title={session.user.email ?? ""}
        >
          {session.user.email}
        </span>
        <button
          type="button"
          onClick={() => signOut({ callbackUrl: "/login" })}
          title={session.user.email ? `Signed in as ${session.user.email}` : undefined}
          className="ml-auto shrink-0 whitespace-nowrap text-sm text-slate-500 hover:text-slate-900 md:ml-0"
        >
          Sign out
        </button>
      </nav>
    </header>
  );
}
