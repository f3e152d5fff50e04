"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { apiFetch } from "@/lib/api/client";
import type {
  CreatedTokenResponse,
  RevokedTokenResponse,
  UpdateUserResponse,
  UserResponse,
} from "@/lib/auth/api-types";
import { queryKeys, type AuditFilterValues } from "@/lib/query/keys";
import { teamQueries } from "@/lib/query/team";

export type Role = "admin" | "viewer";

export function useUsers() {
  return useQuery(teamQueries.users());
}

export function useTokens() {
  return useQuery(teamQueries.tokens());
}

export function useAudit(filters: AuditFilterValues) {
  return useInfiniteQuery(teamQueries.audit(filters));
}

/** Every team change lands in the audit log too. */
function useInvalidate(key: readonly unknown[]) {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: key }),
      queryClient.invalidateQueries({ queryKey: [...queryKeys.team.all, "audit"] }),
    ]);
}

export function useCreateUser() {
  const invalidate = useInvalidate(queryKeys.team.users());
  return useMutation({
    mutationFn: (input: { email: string; password: string; role: Role }) =>
      apiFetch<UserResponse>("/api/users", { method: "POST", body: JSON.stringify(input) }),
    onSuccess: invalidate,
  });
}

export function useUpdateUser() {
  const invalidate = useInvalidate(queryKeys.team.users());
  return useMutation({
    mutationFn: ({ id, ...change }: { id: string; role?: Role; active?: boolean; password?: string }) =>
      apiFetch<UpdateUserResponse>(`/api/users/${encodeURIComponent(id)}`, {
        method: "PATCH",
        body: JSON.stringify(change),
      }),
    onSuccess: invalidate,
  });
}

export function useCreateToken() {
  const invalidate = useInvalidate(queryKeys.team.tokens());
  return useMutation({
    mutationFn: (input: { name: string; role: Role }) =>
      apiFetch<CreatedTokenResponse>("/api/tokens", { method: "POST", body: JSON.stringify(input) }),
    onSuccess: invalidate,
  });
}

export function useRevokeToken() {
  const invalidate = useInvalidate(queryKeys.team.tokens());
  return useMutation({
    mutationFn: (id: string) =>
      apiFetch<RevokedTokenResponse>(`/api/tokens/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSuccess: invalidate,
  });
}
