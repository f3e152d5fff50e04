"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { signOut, useSession } from "next-auth/react";

const links = [
  { href: "/changes", label: "Changes" },
  { href: "/databases", label: "Databases" },
];

export function Nav() {
  const pathname = usePathname();
  const { data: session } = useSession();
  if (!session?.user) return null;
  return (
    <header className="border-b border-slate-200 bg-white">
      {/*
        On a phone the row holds the brand, the links and Sign out; the email joins from the sm breakpoint up,
        truncated when long, and is in Sign out's title meanwhile.
      */}
      <nav className="mx-auto flex max-w-7xl items-center gap-4 px-4 py-3 sm:gap-6 sm:px-6" aria-label="Main">
        <Link href="/changes" className="shrink-0 font-semibold tracking-tight text-indigo-700">
          Retrace
        </Link>
        {links.map((link) => (
          <Link
            key={link.href}
            href={link.href}
            aria-current={pathname.startsWith(link.href) ? "page" : undefined}
            className={
              pathname.startsWith(link.href) ? "font-medium text-slate-900" : "text-slate-500 hover:text-slate-900"
            }
          >
            {link.label}
          </Link>
        ))}
        <span
          className="ml-auto hidden min-w-0 truncate text-sm text-slate-500 sm:block"
          title={session.user.email ?? ""}
        >
          {session.user.email}
        </span>
        <button
          type="button"
          onClick={() => signOut({ callbackUrl: "/login" })}
          title={session.user.email ? `Signed in as ${session.user.email}` : undefined}
          className="ml-auto shrink-0 whitespace-nowrap text-sm text-slate-500 hover:text-slate-900 sm:ml-0"
        >
          Sign out
        </button>
      </nav>
    </header>
  );
}
