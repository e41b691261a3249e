import { describe, expect, it } from "vitest";
import { stepsInOrder, workflowSteps } from "./steps";
import { stepStates } from "../../widgets/run-monitor";

/** The DAG of a workflow's steps from each engine's specification, and the states a run monitor shows for them. */

describe("workflowSteps / stepsInOrder", () => {
  it("orders CWL steps after the steps whose outputs they read, whatever the document order", () => {
    const spec = {
      cwlVersion: "v1.0",
      $graph: [
        {
          class: "Workflow",
          id: "#main",
          steps: [
            { id: "#main/plot", run: "#plot.cwl", in: [{ id: "#main/plot/h", source: "#main/fit/result" }], out: ["#main/plot/png"] },
            { id: "#main/skim", run: "#skim.cwl", in: [{ id: "#main/skim/f", source: "#main/events" }], out: ["#main/skim/out"] },
            { id: "#main/fit", run: "#fit.cwl", in: { data: "skim/out" }, out: ["result"] },
          ],
        },
      ],
    };
    const steps = workflowSteps("cwl", spec);
    expect(steps.map((s) => [s.name, s.needs])).toEqual([
      ["plot", ["fit"]],
      ["skim", []],
      ["fit", ["skim"]],
    ]);
    expect(stepsInOrder(steps).map((s) => s.name)).toEqual(["skim", "fit", "plot"]);
  });

  it("reads Snakemake rules with reana-client's job_dependencies and serial steps in sequence", () => {
    const smk = workflowSteps("snakemake", {
      job_dependencies: { all: ["plot"], plot: ["select"], select: [] },
      steps: [{ name: "plot" }, { name: "select" }],
    });
    expect(stepsInOrder(smk).map((s) => s.name)).toEqual(["select", "plot"]);
    const serial = workflowSteps("serial", { steps: [{ name: "a", commands: ["x", "y"] }, { commands: ["z"] }] });
    expect(serial).toEqual([
      { name: "a", needs: [], jobs: 2 },
      { name: "step 2", needs: ["a"], jobs: 1 },
    ]);
  });
});

describe("stepStates", () => {
  const dag = [
    { name: "select", needs: [], jobs: 1 },
    { name: "plot", needs: ["select"], jobs: 1 },
    { name: "report", needs: ["plot"], jobs: 2 },
  ];
  const job = (step: string, status: string) => ({ step, status, started: "", finished: "" });

  it("lists every step, the ones not started as pending while the run goes on", () => {
    expect(stepStates(dag, [job("select", "finished"), job("plot", "running")], "running").map((s) => [s.name, s.status])).toEqual([
      ["select", "finished"],
      ["plot", "running"],
      ["report", "pending"],
    ]);
  });

  it("after the run: a step with some of its jobs done failed, steps never reached are skipped", () => {
    const steps = stepStates(dag, [job("select", "finished"), job("plot", "finished"), job("report", "finished")], "failed");
    expect(steps.map((s) => [s.name, s.status, s.finished, s.jobs])).toEqual([
      ["select", "finished", 1, 1],
      ["plot", "finished", 1, 1],
      ["report", "failed", 1, 2],
    ]);
    expect(stepStates(dag, [job("select", "failed")], "failed").map((s) => s.status)).toEqual(["failed", "skipped", "skipped"]);
  });

  it("keeps steps known only from their jobs (no specification) in the order they ran", () => {
    expect(stepStates([], [job("a", "finished"), job("b", "stopped")], "stopped").map((s) => [s.name, s.status])).toEqual([
      ["a", "finished"],
      ["b", "stopped"],
    ]);
  });
});
