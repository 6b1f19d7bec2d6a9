/**
 * The tool's layout, Netron-like: a canvas with the tensor list (or, with the tuner, the graph) and the
 * tensor under study side by side, and a side panel with the actions always on top (Calibrate, Tune,
 * Export) over the steps and choices, each scrolling on its own, so nothing pushes the others off
 * screen. A stepper in the top bar says where the user is: load → data → calibrate → tune → export.
 */
import { ActionBar } from './ActionBar';
import { CalibratePanel } from './CalibratePanel';
import { ChoicesPanel } from './ChoicesPanel';
import { ComparePanel } from './ComparePanel';
import { DataPanel } from './DataPanel';
import { DebugCanvas } from './DebugCanvas';
import { ExportPanel } from './ExportPanel';
import { ChartWarmUp } from './ChartWarmUp';
import { ModelLoader } from './ModelLoader';
import { ModelSummaryView } from './ModelSummaryView';
import { Stepper } from './Stepper';
import { TunePanel } from './TunePanel';
import { onLinkClick } from './route';
import { useApp } from './useApp';
import { useCalibrationScope } from './useCalibrationScope';
import { useStagedCount } from './useStagedCount';

/** What the canvas shows before there are tensors to study. */
function CanvasIntro() {
  const model = useApp((s) => s.model);
  const dataKind = useApp((s) => s.dataKind);
  const status = useApp((s) => s.calibration.status);
  // what the calibrate panel says too: the count (the model's inputs and outputs beside its activations)
  const { count: measured, nothing } = useCalibrationScope();
  if (!model) return <ModelLoader />;
  return (
    <div className="canvas-intro" data-testid="canvas-intro">
      <h2>{model.fileName}</h2>
      <p>
        {status === 'running'
          ? 'Calibrating: each tensor appears here with its histogram and ranges when the run ends.'
          : nothing
            ? 'As the model stands there is nothing to calibrate: every quantizable node sits inside control flow. Step 3 in the side panel says how to fold it into the graph.'
            : dataKind === 'none'
              ? 'Next: choose calibration data in the side panel (step 2), then press Calibrate.'
              : `Next: press Calibrate. The ${measured} tensors it measures appear here, one under study at a time (arrow keys move through them).`}
      </p>
    </div>
  );
}

export function App() {
  const model = useApp((s) => s.model);
  const hasStats = useApp((s) => s.calibration.stats !== null && s.calibration.statsFor === s.model?.fileName);
  return (
    <div className="app">
      <ChartWarmUp />
      <header className="topbar">
        <h1>Quantscope</h1>
        <Stepper />
        <nav className="top-nav">
          <a href="/lab" onClick={(e) => onLinkClick(e, '/lab')}>
            Lab: learn quantization by playing with it →
          </a>
        </nav>
      </header>
      <div className="workspace">
        <main className="canvas" aria-label="Tensors">
          {!model && (
            <p className="tagline">
              Quantize ONNX models in your browser: calibrate on your data, see every tensor's range, download a
              standard int8 QDQ model.
            </p>
          )}
          {hasStats ? <DebugCanvas /> : <CanvasIntro />}
        </main>
        {model && (
          <aside className="side" aria-label="Steps and choices">
            <ActionBar />
            <SidePanels />
          </aside>
        )}
      </div>
    </div>
  );
}

/**
 * The side panel's cards, mounted one at a time in tasks of their own (useStagedCount) as the model
 * arrives: all at once they made one 70-100 ms task on the page's thread (render, DOM insertion, layout).
 */
function SidePanels() {
  const shown = useStagedCount(SIDE_STAGES);
  return (
    <div className="side-scroll">
      <ModelLoader />
      <ModelSummaryView />
      {shown > 1 && <DataPanel />}
      {shown > 2 && <CalibratePanel />}
      {shown > 3 && <TunePanel />}
      {shown > 4 && <ExportPanel />}
      {shown > 5 && <ChoicesPanel />}
      {shown > 6 && <ComparePanel />}
      {shown > 6 && (
        <footer className="muted">
          The sample models are PaddleOCR's PP-OCRv4 text detector and recogniser (Apache-2.0), served with its{' '}
          <a href="samples/models/NOTICE.txt">notice</a>.
        </footer>
      )}
    </div>
  );
}
const SIDE_STAGES = 7;
