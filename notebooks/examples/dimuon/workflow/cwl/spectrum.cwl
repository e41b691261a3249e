cwlVersion: v1.0
class: CommandLineTool
doc: Log-binned mass spectrum and the sideband-subtracted J/psi, Upsilon(1S) and Z peaks.
hints:
  DockerRequirement:
    dockerPull: docker.io/library/python:3.12-slim
baseCommand: [python3]
arguments:
  - {position: 2, valueFrom: spectrum}
  - {position: 5, prefix: --output, valueFrom: results.json}
  - {position: 6, prefix: --table, valueFrom: summary.md}
inputs:
  code: {type: File, inputBinding: {position: 1}}
  selected: {type: File, inputBinding: {position: 3, prefix: --input}}
  bins: {type: int, inputBinding: {position: 4, prefix: --bins}}
outputs:
  results: {type: File, outputBinding: {glob: results.json}}
  summary: {type: File, outputBinding: {glob: summary.md}}
