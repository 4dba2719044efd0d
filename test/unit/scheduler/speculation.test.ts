// The speculation policy: how many draft tokens a sequence is worth verifying at its acceptance rate, the step's
// draft budget, the acceptance count of a verified draft, and the adaptation of draft lengths to acceptance.
import { describe, expect, it } from "vitest";
import { ngramDraft, NgramDrafter } from "../../../src/scheduler/ngram-drafter.js";
import { draftLength, Speculation } from "../../../src/scheduler/speculation.js";
import { makeSeq, scriptedDrafter } from "../../helpers/scheduler.js";

const policy = (numSpeculativeTokens = 5, maxStepRows = 8) =>
  new Speculation({ drafter: scriptedDrafter(0), numSpeculativeTokens, maxStepRows });

describe("draftLength", () => {
  it("verifies a draft token while its chance of acceptance (rate^position) is at least 0.3", () => {
    expect([1, 0.9, 0.79, 0.7, 0.553, 0.5, 0.3871, 0.27097, 0.25, 0].map((r) => draftLength(r, 5))).toEqual([
      5, 5, 5, 3, 2, 1, 1, 0, 0, 0,
    ]);
    expect(draftLength(0.9, 2)).toBe(2);
  });
});

describe("Speculation", () => {
  it("gives drafts the rows a step has below maxStepRows, and none to a step that prefills", () => {
    const s = policy(5, 8);
    expect([1, 4, 8, 32].map((n) => s.stepBudget(n, false))).toEqual([7, 4, 0, 0]);
    expect(s.stepBudget(1, true)).toBe(0);
  });

  it("counts the leading draft tokens equal to the token sampled before each as accepted, per position", () => {
    const s = policy();
    const seq = makeSeq([1, 2, 3]);
    expect(s.verified(seq, [10, 11, 12], Int32Array.of(10, 11, 99))).toBe(2);
    expect(s.verified(seq, [10, 11, 12], Int32Array.of(5, -1, -1))).toBe(0);
    expect(s.verified(seq, [10], Int32Array.of(10))).toBe(1);
    expect(s.stats()).toEqual({
      numDrafts: 3,
      numDraftTokens: 7,
      numAcceptedTokens: 3,
      numAcceptedPerPosition: [2, 1, 0, 0, 0],
    });
  });

  it("drafts more while drafts are accepted and fewer, then none, while they are rejected", () => {
    const s = policy(5);
    const seq = makeSeq([1, 2, 3]);
    const lengths: number[] = [];
    const verify = (accepted: number) => {
      const numTokens = s.wanted(seq, 5);
      lengths.push(numTokens);
      if (numTokens === 0) return;
      const draft = Array.from({ length: numTokens }, (_, i) => 100 + i);
      s.verified(
        seq,
        draft,
        Int32Array.from(draft, (t, i) => (i < accepted ? t : -1)),
      );
    };
    verify(3); // 0.7 -> 0.79
    verify(0); // 0.79 -> 0.553
    verify(0); // -> 0.3871
    verify(0); // -> 0.27097
    verify(0);
    expect(lengths).toEqual([3, 5, 2, 1, 0]);
  });

  it("lets a sequence that stopped drafting try again after some steps", () => {
    const s = policy(5);
    const seq = makeSeq([1, 2, 3]);
    for (let i = 0; i < 4; i++) s.verified(seq, [100], Int32Array.of(-1));
    // Acceptance 0.168 creeps back 3% of the way to 0.7 per step: past 0.3 (one token worth it) at the 11th.
    expect(Array.from({ length: 12 }, () => s.wanted(seq, 5))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  });

  it("drafts nothing for a request that opted out", () => {
    const s = policy();
    const seq = makeSeq([1, 2, 3], { params: { speculative: false } });
    expect(s.wanted(seq, 5)).toBe(0);
    expect(s.demand([seq], false, { maxModelLen: 100, grow: () => true })).toEqual([]);
  });

  it("demands, in order, what each decoding sequence would draft within the step's rows and its room", () => {
    const s = policy(5, 6);
    const [a, b, c] = [1, 2, 3].map(() => makeSeq([1, 2, 3], { params: { maxTokens: 10 } }));
    c!.tokens.push(...Array.from({ length: 8 }, () => 4)); // 8 of 10 output tokens: room for 1 draft
    const demand = s.demand([c!, a!, b!], false, { maxModelLen: 100, grow: () => true });
    expect(demand.map((d) => [d.seq.seqId, d.numTokens])).toEqual([
      [c!.seqId, 1],
      [a!.seqId, 2],
    ]);
  });
});

describe("prompt lookup", () => {
  it("proposes what followed the latest earlier occurrence of the longest suffix of 2 to 4 tokens", () => {
    //             0  1  2  3  4  5  6  7  8  9 10
    const tokens = [5, 6, 7, 8, 9, 1, 6, 7, 3, 4, 6, 7];
    // Suffix [6, 7]: latest earlier occurrence ends at 8, followed by [3, 4, 6, 7].
    expect(ngramDraft(tokens, 3, 2, 4)).toEqual([3, 4, 6]);
    // Suffix [6, 7, 3] recurs at 6..8, followed by [4, 6].
    expect(ngramDraft([...tokens, 3], 2, 2, 4)).toEqual([4, 6]);
    expect(ngramDraft([1, 2, 3, 4], 3, 2, 4)).toEqual([]);
    expect(ngramDraft([1, 2, 1, 2], 5, 2, 4)).toEqual([1, 2]);
  });

  it("prefers the longest suffix that recurs", () => {
    const tokens = [1, 2, 3, 9, 2, 3, 8, 1, 2, 3];
    // [1, 2, 3] recurs at 0..2 (followed by 9); [2, 3] alone would take the latest, at 4..5 (followed by 8).
    expect(new NgramDrafter().propose(makeSeq(tokens), 2)).toEqual([9, 2]);
    expect(new NgramDrafter({ maxNgram: 2 }).propose(makeSeq(tokens), 2)).toEqual([8, 1]);
  });
});
