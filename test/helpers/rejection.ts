import { expect } from "vitest";

/** The error a call rejects with, checked to be a `kind`; fails the test if the call resolves. */
export async function rejection<E extends Error>(
  call: Promise<unknown>,
  kind: abstract new (...args: never[]) => E,
): Promise<E> {
  const error = await call.then(
    () => expect.unreachable("the call should have failed"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(kind);
  return error as E;
}
