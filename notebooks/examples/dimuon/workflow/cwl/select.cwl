cwlVersion: v1.0
class: CommandLineTool
doc: Opposite-sign dimuon pairs passing the muon cuts, with the per-run cut flow.
hints:
  DockerRequirement:
    dockerPull: docker.io/library/python:3.12-slim
baseCommand: [python3]
arguments:
  - {position: 2, valueFrom: select}
  - {position: 5, prefix: --output, valueFrom: selected.csv}
  - {position: 6, prefix: --cutflow, valueFrom: cutflow.json}
inputs:
  code: {type: File, inputBinding: {position: 1}}
  data: {type: Directory, inputBinding: {position: 3, prefix: --data-dir}}
  min_pt: {type: float, inputBinding: {position: 4, prefix: --min-pt}}
outputs:
  selected: {type: File, outputBinding: {glob: selected.csv}}
  cutflow: {type: File, outputBinding: {glob: cutflow.json}}
