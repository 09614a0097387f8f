import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

function App(): React.JSX.Element {
  return (
    <main
      style={{ fontFamily: 'system-ui, sans-serif', margin: '3rem auto', maxWidth: '40rem', lineHeight: 1.5 }}
    >
      <h1>Reckon</h1>
      <p>
        The desktop interface is not built yet. Everything Reckon can do today runs from the{' '}
        <code>reckon</code> command: <code>npx reckon ingest</code>, <code>npx reckon search</code>,{' '}
        <code>npx reckon corpora</code> and <code>npx reckon models</code>. See the README.
      </p>
    </main>
  );
}

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
