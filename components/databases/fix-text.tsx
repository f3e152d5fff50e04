import { splitFix } from "@/lib/sources/fix-text";
import { CopyBlock } from "./copy-block";

/** A fix as it reads best: prose as paragraphs, SQL and commands in code boxes with a copy button each. */
export function FixText({ text, className = "" }: { text: string; className?: string }) {
  return (
    <div className={`space-y-2 ${className}`}>
      {splitFix(text).map((segment, i) =>
        segment.kind === "code" ? (
          <CopyBlock key={i} text={segment.text} />
        ) : (
          <p key={i} className="mt-2 text-sm text-slate-700 wrap-anywhere">
            {segment.text}
          </p>
        ),
      )}
    </div>
  );
}
