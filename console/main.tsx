import { render } from "preact";
import { App } from "./app";
import { loadConsoleConfig } from "./auth/console-config";
import "./styles.css";

// The console's entry: read how to sign in (/admin/config.json), then render.

const root = document.getElementById("app") as HTMLElement;
loadConsoleConfig()
  .then((config) => render(<App config={config} />, root))
  .catch((error: unknown) => {
    root.textContent = "";
    const p = document.createElement("p");
    p.setAttribute("role", "alert");
    p.textContent = `The console cannot start: ${(error as Error).message}`;
    root.append(p);
  });
