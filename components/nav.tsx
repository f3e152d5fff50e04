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
      <nav className="mx-auto flex max-w-7xl items-center gap-6 px-6 py-3" aria-label="Main">
        <Link href="/changes" className="font-semibold tracking-tight text-indigo-700">
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
        <span className="ml-auto text-sm text-slate-500">{session.user.email}</span>
        <button
          type="button"
          onClick={() => signOut({ callbackUrl: "/login" })}
          className="text-sm text-slate-500 hover:text-slate-900"
        >
          Sign out
        </button>
      </nav>
    </header>
  );
}
