import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { LabApp } from './lab/LabApp';
import { App } from './ui/App';
import { usePath } from './ui/route';
import { startProbe } from './runtime/client';
import type { Backend, ProbeRequest } from './runtime/protocol';
import { appStore } from './state/appStore';
import './ui/styles.css';

// The store, read-only by convention, for scripting the page from the console (and for e2e checks).
(window as unknown as { quantscope: typeof appStore }).quantscope = appStore;
// The support-table probe (scripts/probe-support.ts) runs its one-node models through the page's own worker.
(window as unknown as { quantscopeProbe: unknown }).quantscopeProbe = (
  models: ProbeRequest['models'],
  backend: Backend,
) => startProbe({ models, backend }).result;

// `?model=URL`: a model file's URL or a repository's base URL, opened at start (from storage if kept there).
const modelUrl = new URLSearchParams(window.location.search).get('model');
if (modelUrl && !window.location.pathname.startsWith('/lab')) void appStore.getState().openModelUrl(modelUrl);

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
