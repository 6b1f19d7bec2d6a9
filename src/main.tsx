import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { appStore } from './ui/useApp';
import './ui/styles.css';

// The store, read-only by convention, for scripting the page from the console (and for e2e checks).
(window as unknown as { quantscope: typeof appStore }).quantscope = appStore;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
