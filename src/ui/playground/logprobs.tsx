// A reply's tokens as a heat map of their probabilities: red where the model was unsure, green where it was sure;
// hovering a token names its probability and the alternatives the server sent.
import type { TokenLogprob } from "./stream.js";

function describe(t: TokenLogprob): string {
  const alternatives = t.top_logprobs
    .map((alt) => `${JSON.stringify(alt.token)} ${(Math.exp(alt.logprob) * 100).toFixed(1)} %`)
    .join(", ");
  const own = `${JSON.stringify(t.token)}: ${(Math.exp(t.logprob) * 100).toFixed(1)} %`;
  return alternatives === "" ? own : `${own}; top: ${alternatives}`;
}

export function LogprobHeatmap({ tokens }: { tokens: readonly TokenLogprob[] }) {
  return (
    <figure class="heatmap">
      <figcaption>Token probabilities (red: unlikely, green: likely)</figcaption>
      <p>
        {tokens.map((t, i) => (
          <span
            key={i}
            class="token"
            title={describe(t)}
            style={{ backgroundColor: `hsl(${Math.round(Math.exp(t.logprob) * 120)} 80% 45% / 0.4)` }}
          >
            {t.token}
          </span>
        ))}
      </p>
    </figure>
  );
}
