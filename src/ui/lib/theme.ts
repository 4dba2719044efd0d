// Light and dark: the system's choice (prefers-color-scheme) unless the visitor picks one, which is remembered.
import { useEffect, useState } from "preact/hooks";

export type ThemeChoice = "system" | "light" | "dark";
export type Theme = "light" | "dark";

const ITEM = "loom.theme";
const NEXT: Record<ThemeChoice, ThemeChoice> = { system: "light", light: "dark", dark: "system" };

function stored(): ThemeChoice {
  const value = localStorage.getItem(ITEM);
  return value === "light" || value === "dark" ? value : "system";
}

function systemTheme(): Theme {
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/** The choice, the theme in effect, and the function that moves to the next choice (system, light, dark). */
export function useTheme(): { choice: ThemeChoice; theme: Theme; next: () => void } {
  const [choice, setChoice] = useState<ThemeChoice>(stored);
  const [system, setSystem] = useState<Theme>(systemTheme);
  useEffect(() => {
    const query = matchMedia("(prefers-color-scheme: dark)");
    const onChange = () => setSystem(systemTheme());
    query.addEventListener("change", onChange);
    return () => query.removeEventListener("change", onChange);
  }, []);
  const theme = choice === "system" ? system : choice;
  // Set while rendering, not in an effect: children's effects run first, and charts read the theme's colours from
  // the stylesheet when they are built.
  document.documentElement.dataset.theme = theme;
  useEffect(() => {
    if (choice === "system") localStorage.removeItem(ITEM);
    else localStorage.setItem(ITEM, choice);
  }, [choice]);
  return { choice, theme, next: () => setChoice((c) => NEXT[c]) };
}
