import { useEffect, useRef, type ReactNode } from "react";

interface Props {
  title: string;
  children: ReactNode;
  testId?: string;
}

/** A full-page message (bad link, superseded tab, connecting…), focused so it is announced. */
export function MessageScreen({ title, children, testId }: Props) {
  const headingRef = useRef<HTMLHeadingElement | null>(null);
  useEffect(() => headingRef.current?.focus(), [title]);
  return (
    <main id="main" className="narrow" data-testid={testId}>
      <h1 ref={headingRef} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </main>
  );
}
