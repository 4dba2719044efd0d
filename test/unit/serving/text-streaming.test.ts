// UTF-8-safe detokenization and stop-string holdback, on byte sequences chosen to split characters.
import { describe, expect, it } from "vitest";
import { IncrementalDetokenizer } from "../../../src/serving/llm/detokenizer.js";
import { StopMatcher } from "../../../src/serving/llm/stop-strings.js";

describe("IncrementalDetokenizer", () => {
  const bytesOf = (tokens: number[][]) => (token: number) => Uint8Array.from(tokens[token]!);

  it("holds back a character's bytes until they complete it", () => {
    const euro = [...Buffer.from("€")]; // e2 82 ac
    const d = new IncrementalDetokenizer(bytesOf([[0x61], [euro[0]!], [euro[1]!], [euro[2]!, 0x62]]));
    expect([0, 1, 2, 3].map((t) => d.push(t))).toEqual(["a", "", "", "€b"]);
    expect(d.flush()).toBe("");
  });

  it("flushes bytes that never completed a character as U+FFFD", () => {
    const d = new IncrementalDetokenizer(bytesOf([[0xf0, 0x9d]]));
    expect(d.push(0)).toBe("");
    expect(d.flush()).toBe("\uFFFD");
  });
});

describe("StopMatcher", () => {
  const feed = (matcher: StopMatcher, deltas: string[]) => deltas.map((d) => matcher.push(d));

  it("holds back a possible start of a stop string and releases it when it turns out not to be one", () => {
    const m = new StopMatcher(["</end>"]);
    expect(feed(m, ["hello <", "/e", "x"])).toEqual([
      { text: "hello ", stopped: false },
      { text: "", stopped: false },
      { text: "</ex", stopped: false },
    ]);
  });

  it("stops at a stop string split across deltas and emits only the text before it", () => {
    const m = new StopMatcher(["STOP", "###"]);
    expect(feed(m, ["abc ST", "OP and more"])).toEqual([
      { text: "abc ", stopped: false },
      { text: "", stopped: true, matched: "STOP" },
    ]);
    const n = new StopMatcher(["STOP", "###"]);
    expect(n.push("x ## y ### STOP")).toEqual({ text: "x ## y ", stopped: true, matched: "###" });
  });

  it("gives held-back text back on flush when generation ends otherwise", () => {
    const m = new StopMatcher(["abc"]);
    expect(m.push("xxab")).toEqual({ text: "xx", stopped: false });
    expect(m.flush()).toBe("ab");
  });

  it("passes text straight through without stop strings", () => {
    expect(new StopMatcher([]).push("anything")).toEqual({ text: "anything", stopped: false });
  });
});
