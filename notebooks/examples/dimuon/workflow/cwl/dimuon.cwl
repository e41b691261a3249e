# The first two steps of the dimuon analysis as a CWL workflow: select the dimuon candidates, then measure the
# resonances. Each step is a CommandLineTool running code/dimuon.py; cwltool stages the files between them.
cwlVersion: v1.0
class: Workflow
inputs:
  code: File
  data: Directory
  min_pt: float
  bins: int
outputs:
  cutflow:
    type: File
    outputSource: select/cutflow
  results:
    type: File
    outputSource: spectrum/results
  summary:
    type: File
    outputSource: spectrum/summary
steps:
  select:
    run: select.cwl
    in:
      code: code
      data: data
      min_pt: min_pt
    out: [selected, cutflow]
  spectrum:
    run: spectrum.cwl
    in:
      code: code
      selected: select/selected
      bins: bins
    out: [results, summary]
