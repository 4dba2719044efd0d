// The page's entry: the app shell into #app.
import { render } from "preact";
import { App } from "./app.js";
import "./styles/base.css";
import "./styles/dashboard.css";
import "./styles/playground.css";

render(<App />, document.getElementById("app")!);
