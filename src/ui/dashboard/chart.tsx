// Chart: one uPlot time-series chart that follows its container's width. The chart is built once per set of lines
// and theme; new points only replace its data.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Theme } from "../lib/theme.js";

/** Tableau 10: distinguishable on light and dark backgrounds. */
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7"];
const HEIGHT = 180;

interface ChartProps {
  readonly title: string;
  readonly lines: readonly string[];
  /** x (Unix seconds) first, then one column per line; null is a gap. */
  readonly data: uPlot.AlignedData;
  readonly format: (value: number) => string;
  /** A fixed top of the y scale (100 for percentages); otherwise it follows the data, from 0. */
  readonly yMax?: number;
  /** Whole numbers only (counts): no ticks between them. */
  readonly integer?: boolean;
  readonly theme: Theme;
}

const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

export function Chart({ title, lines, data, format, yMax, integer = false, theme }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const signature = `${theme}\n${lines.join("\n")}`;
  // Rebuilt only when the lines or the theme change; new data goes through setData below.
  useEffect(() => {
    const element = box.current!;
    // Computed colours, not the custom properties: those hold light-dark() pairs that a canvas cannot read.
    const css = getComputedStyle(element);
    const ink = css.color;
    const grid = css.borderTopColor;
    const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 200),
      height: HEIGHT,
      series: [
        {},
        ...lines.map((label, i) => ({
          label,
          stroke: PALETTE[i % PALETTE.length]!,
          width: 1.5,
          value: (_: uPlot, v: number | null) => (v === null ? "–" : format(v)),
        })),
      ],
      axes: [
        axis,
        {
          ...axis,
          size: 64,
          values: (_: uPlot, ticks: number[]) => ticks.map(format),
          ...(integer ? { incrs: INTEGER_STEPS } : {}),
        },
      ],
      scales: { y: { range: (_u, _min, max) => [0, yMax ?? (max > 0 ? max * 1.1 : 1)] } },
    };
    plot.current = new uPlot(options, data, element);
    const resize = new ResizeObserver(() => {
      if (element.clientWidth > 0) plot.current?.setSize({ width: element.clientWidth, height: HEIGHT });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [signature]);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  return (
    <figure class="chart" data-points={data[0].length}>
      <figcaption>{title}</figcaption>
      <div ref={box} class="plot" />
    </figure>
  );
}
