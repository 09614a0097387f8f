import { useEffect, useRef, useState } from 'react';
import { toUiError, type UiError } from '../errors.ts';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { useAppModel } from '../state/AppModel.ts';
import type { ChunkWithContext } from '../state/types.ts';
import { contextSegments } from './passageText.ts';

/** Which passage to open: a chunk of a corpus, with what the trace already knows about it. */
export interface PassageRequest {
  corpus: string | null;
  chunkId: number;
  title: string;
  source: string;
  score: number | null;
}

/**
 * A cited or retrieved passage opened in its document: the chunk highlighted within the text of
 * its neighbouring chunks, with title, path, page and score. A side drawer; Escape closes it and
 * focus returns to what opened it. In the desktop app an "Open file" action opens the source
 * document in its application (only documents the corpus recorded; see openDocument).
 */
export function PassageView(props: { request: PassageRequest; onClose: () => void }): React.JSX.Element {
  const { request, onClose } = props;
  const { bridge } = useAppModel();
  const [data, setData] = useState<ChunkWithContext | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [openError, setOpenError] = useState<UiError | null>(null);
  const [opened, setOpened] = useState<string | null>(null);
  const closeRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    closeRef.current?.focus();
    return () => opener?.focus();
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  useEffect(() => {
    let live = true;
    setData(null);
    setError(null);
    if (request.corpus === null) {
      setError({ message: 'This run searched no corpus, so the passage cannot be opened.', code: null });
      return;
    }
    bridge
      .invoke('getChunk', { corpus: request.corpus, chunkId: request.chunkId })
      .then((result) => live && setData(result))
      .catch((caught: unknown) => live && setError(toUiError(caught)));
    return () => {
      live = false;
    };
  }, [bridge, request.corpus, request.chunkId]);

  const chunk = data?.chunk;
  const canOpenFile = bridge.desktop !== undefined && request.corpus !== null && chunk !== undefined;

  async function openFile(): Promise<void> {
    if (request.corpus === null || !chunk) return;
    setOpenError(null);
    setOpened(null);
    try {
      const result = await bridge.invoke('openDocument', { corpus: request.corpus, path: chunk.path });
      setOpened(
        result.action === 'open'
          ? 'Opened in its application.'
          : 'Shown in its folder (files of this kind are not opened directly, as they could run as programs).',
      );
    } catch (caught) {
      setOpenError(toUiError(caught));
    }
  }
  return (
    <aside
      className="drawer"
      role="dialog"
      aria-modal="false"
      aria-labelledby="passage-title"
      data-testid="passage-view"
    >
      <header className="drawer__header">
        <div>
          <h3 id="passage-title" className="drawer__title">
            {chunk?.title || request.title || `Chunk ${request.chunkId}`}
          </h3>
          <p className="drawer__meta mono" title={chunk?.path ?? request.source}>
            {chunk?.path ?? request.source}
            {chunk?.page !== null && chunk?.page !== undefined ? ` · page ${chunk.page}` : ''}
          </p>
          <p className="drawer__meta">
            chunk {request.chunkId}
            {chunk ? ` · characters ${chunk.start}–${chunk.end}` : ''}
            {request.score !== null ? ` · score ${request.score.toFixed(3)}` : ''}
          </p>
        </div>
        <div className="toolbar">
          {canOpenFile && (
            <button
              type="button"
              className="button"
              onClick={() => void openFile()}
              data-testid="passage-open-file"
            >
              Open file
            </button>
          )}
          <button
            type="button"
            className="button"
            ref={closeRef}
            onClick={onClose}
            aria-label="Close passage"
          >
            Close
          </button>
        </div>
      </header>
      <div className="drawer__body">
        <ErrorNote error={error} />
        <ErrorNote error={openError} />
        {opened && (
          <p className="note note--ok small" role="status">
            {opened}
          </p>
        )}
        {!data && !error && <p className="muted">Loading the passage…</p>}
        {data && (
          <div className="passage" data-testid="passage-text">
            {contextSegments(data).map((segment) =>
              segment.cited ? (
                <mark key={segment.chunkId} className="passage__cited" data-testid="passage-highlight">
                  {segment.text}
                </mark>
              ) : (
                <span key={segment.chunkId} className="passage__context">
                  {segment.text}
                </span>
              ),
            )}
          </div>
        )}
      </div>
    </aside>
  );
}
