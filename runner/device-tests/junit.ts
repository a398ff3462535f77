// JUnit XML (the Ant/Jenkins dialect every CI reads): one testsuite per test definition, one
// testcase per check and device, plus the script itself.

export interface JunitCase {
  classname: string;
  name: string;
  timeMs: number;
  failure?: { message: string; body?: string };
  error?: { message: string; body?: string };
  systemOut?: string;
}

export interface JunitSuite {
  name: string;
  timestamp: string;
  timeMs: number;
  cases: JunitCase[];
  properties?: Record<string, string>;
}

/** Escapes text for XML, dropping characters XML 1.0 cannot carry. */
export function xmlEscape(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

export function junitXml(suite: JunitSuite): string {
  const failures = suite.cases.filter((c) => c.failure).length;
  const errors = suite.cases.filter((c) => c.error).length;
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(
    `<testsuites name="${xmlEscape(suite.name)}" tests="${suite.cases.length}" failures="${failures}" errors="${errors}" time="${secs(suite.timeMs)}">`,
  );
  lines.push(
    `  <testsuite name="${xmlEscape(suite.name)}" tests="${suite.cases.length}" failures="${failures}" errors="${errors}" skipped="0" timestamp="${xmlEscape(suite.timestamp)}" time="${secs(suite.timeMs)}">`,
  );
  if (suite.properties && Object.keys(suite.properties).length > 0) {
    lines.push('    <properties>');
    for (const [k, v] of Object.entries(suite.properties))
      lines.push(`      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`);
    lines.push('    </properties>');
  }
  for (const c of suite.cases) {
    const open = `    <testcase classname="${xmlEscape(c.classname)}" name="${xmlEscape(c.name)}" time="${secs(c.timeMs)}"`;
    const inner: string[] = [];
    if (c.failure)
      inner.push(
        `      <failure message="${xmlEscape(c.failure.message)}" type="check">${xmlEscape(c.failure.body ?? c.failure.message)}</failure>`,
      );
    if (c.error)
      inner.push(
        `      <error message="${xmlEscape(c.error.message)}" type="error">${xmlEscape(c.error.body ?? c.error.message)}</error>`,
      );
    if (c.systemOut) inner.push(`      <system-out>${xmlEscape(c.systemOut)}</system-out>`);
    lines.push(inner.length === 0 ? `${open}/>` : `${open}>\n${inner.join('\n')}\n    </testcase>`);
  }
  lines.push('  </testsuite>');
  lines.push('</testsuites>');
  return lines.join('\n') + '\n';
}
