// The few browser globals that test code uses inside `page.evaluate` / `waitForFunction` callbacks,
// which run in Chromium, not in Node. Declared here rather than adding the DOM lib to the test
// program, whose `fetch`/`BodyInit` types would then stop accepting Node's Buffer.
interface BrowserElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  scrollWidth: number;
  clientWidth: number;
}

declare const document: {
  querySelector(selector: string): BrowserElement | null;
  body: BrowserElement;
  documentElement: BrowserElement;
};
declare const history: { pushState(state: unknown, unused: string, url: string): void };
declare const sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
declare function getComputedStyle(element: BrowserElement): { backgroundColor: string };
declare function dispatchEvent(event: unknown): boolean;
declare class PopStateEvent {
  constructor(type: string);
}
