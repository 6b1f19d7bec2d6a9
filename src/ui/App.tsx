import { CalibratePanel } from './CalibratePanel';
import { ChoicesPanel } from './ChoicesPanel';
import { ComparePanel } from './ComparePanel';
import { DataPanel } from './DataPanel';
import { ExportPanel } from './ExportPanel';
import { ChartWarmUp } from './HistogramChart';
import { ModelLoader } from './ModelLoader';
import { ModelSummaryView } from './ModelSummaryView';
import { TensorExplorer } from './TensorExplorer';
import { onLinkClick } from './route';

export function App() {
  return (
    <main>
      <ChartWarmUp />
      <header>
        <h1>Quantscope</h1>
        <nav className="top-nav">
          <a href="/lab" onClick={(e) => onLinkClick(e, '/lab')}>
            Lab: learn quantization by playing with it →
          </a>
        </nav>
        <p>
          Quantize ONNX models in your browser: calibrate on your data, see every tensor's range, download a standard
          int8 QDQ model.
        </p>
      </header>
      <ModelLoader />
      <ModelSummaryView />
      <DataPanel />
      <CalibratePanel />
      <TensorExplorer />
      <ChoicesPanel />
      <ExportPanel />
      <ComparePanel />
      <footer className="muted">
        The sample models are PaddleOCR's PP-OCRv4 text detector and recogniser (Apache-2.0), served with its{' '}
        <a href="samples/models/NOTICE.txt">notice</a>.
      </footer>
    </main>
  );
}
