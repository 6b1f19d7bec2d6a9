import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { LabApp } from './lab/LabApp';
import { App } from './ui/App';
import { usePath } from './ui/route';
import { appStore } from './ui/useApp';
import './ui/styles.css';

// The store, read-only by convention, for scripting the page from the console (and for e2e checks).
(window as unknown as { quantscope: typeof appStore }).quantscope = appStore;

/** One page for the tool and the lab: navigating between them keeps a loaded model and its statistics. */
function Root() {
  const path = usePath();
  return path.startsWith('/lab') ? <LabApp path={path} /> : <App />;
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
