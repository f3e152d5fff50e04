import { Fragment } from "react";

/**
 * A name such as schema.table, a column or host:port/database, allowed to wrap after its dots, underscores,
 * colons and slashes (where a reader expects a long name to break) before anywhere else. The text is unchanged:
 * <wbr> adds no character.
 */
export function Identifier({ name }: { name: string }) {
  const parts = name.split(/(?<=[._:/])/);
  return (
    <>
      {parts.map((part, i) => (
        <Fragment key={i}>
          {i > 0 ? <wbr /> : null}
          {part}
        </Fragment>
      ))}
    </>
  );
}
