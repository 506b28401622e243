/** What an element may contain: text, other elements, or nothing (skipped). */
export type Child = Node | string | number | null | undefined | false;

/** An attribute's value: a listener for `on*` names, true for a bare attribute, nothing for false or undefined. */
type AttributeValue = string | boolean | number | ((event: Event) => void) | undefined;

function setAttribute(element: HTMLElement, name: string, value: AttributeValue): void {
  if (typeof value === "function") element.addEventListener(name.slice(2), value);
  else if (value === true) element.setAttribute(name, "");
  else if (value !== undefined && value !== false) element.setAttribute(name, String(value));
}

/** An element with attributes (`on*` functions become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, AttributeValue> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) setAttribute(element, name, value);
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) element.append(typeof child === "number" ? String(child) : child);
  }
  return element;
}

/** A long hex value shortened for display, whole in its title and for copying. */
export function short(hex: string | null | undefined, keep = 10): HTMLElement | string {
  if (!hex) return "—";
  return h("code", { title: hex, class: "hex" }, hex.length > keep * 2 ? `${hex.slice(0, keep)}…${hex.slice(-6)}` : hex);
}

/** "12 s ago", "3 min ago", "2 h ago". */
export function ago(seconds: number): string {
  if (seconds < 90) return `${Math.max(0, Math.round(seconds))} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

/** A definition list of label and value pairs. */
export function facts(rows: [string, Child | Child[]][], className = "facts"): HTMLDListElement {
  return h("dl", { class: className }, ...rows.map(([label, value]) => h("div", {}, h("dt", {}, label), h("dd", {}, ...[value].flat()))));
}

/** A message the page shows loudly (an error, a refusal); screen readers announce it. */
export function alertBox(kind: "error" | "warn" | "ok", title: string, ...body: Child[]): HTMLElement {
  return h(
    "div",
    { class: `alert ${kind}`, role: kind === "ok" ? "status" : "alert" },
    h("strong", {}, title),
    ...body.map((b) => (b ? h("p", {}, b) : null)),
  );
}

/** An enum member's name as the spec writes it: LockDevice as LOCK_DEVICE. */
export function constantName(name: string | undefined): string {
  return (name ?? "?").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}
