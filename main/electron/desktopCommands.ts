/**
 * The commands only the desktop app can carry out, answered in the main process where Electron's
 * dialog and shell live: the system's file/folder picker (showOpenDialog) and opening a corpus
 * document in its default application (openDocument — the engine first checks the path is one the
 * corpus recorded, and says whether to open it or only show it in its folder). Every other command
 * goes to the engine unchanged.
 */
import { BrowserWindow, dialog, shell, type WebContents } from 'electron';
import { commands, type InvokeResult } from '../../preload/contract.ts';

/** Runs a command in the engine process. */
export type EngineInvoke = (name: unknown, input: unknown) => Promise<InvokeResult>;

/**
 * Answers showOpenDialog and openDocument for the window of `sender`; passes anything else to
 * `engineInvoke`. Inputs are parsed with the contract's schemas like every other command.
 */
export async function invokeWithDesktopCommands(
  name: unknown,
  input: unknown,
  sender: WebContents,
  engineInvoke: EngineInvoke,
): Promise<InvokeResult> {
  if (name === 'showOpenDialog') {
    const parsed = commands.showOpenDialog.input.safeParse(input ?? {});
    if (!parsed.success) return badInput(name);
    const window = BrowserWindow.fromWebContents(sender);
    const options: Electron.OpenDialogOptions = {
      title: parsed.data.select === 'files' ? 'Add files to a corpus' : 'Add a folder to a corpus',
      buttonLabel: 'Add',
      properties:
        parsed.data.select === 'files'
          ? ['openFile', 'multiSelections']
          : ['openDirectory', 'multiSelections'],
    };
    const result = window
      ? await dialog.showOpenDialog(window, options)
      : await dialog.showOpenDialog(options);
    return { ok: true, value: { paths: result.canceled ? [] : result.filePaths } };
  }
  if (name === 'openDocument') {
    // The engine checks the path belongs to the corpus and picks open or reveal.
    const checked = await engineInvoke(name, input);
    if (!checked.ok) return checked;
    const target = commands.openDocument.output.parse(checked.value);
    if (target.action === 'reveal') {
      shell.showItemInFolder(target.path);
      return checked;
    }
    const problem = await shell.openPath(target.path);
    if (problem) {
      return {
        ok: false,
        error: {
          name: 'ReckonError',
          code: 'OPEN_FAILED',
          message: `The system could not open "${target.path}": ${problem}. Check that the file is still there and that an application is set to open it.`,
        },
      };
    }
    return checked;
  }
  return engineInvoke(name, input);
}

function badInput(name: string): InvokeResult {
  return {
    ok: false,
    error: { name: 'ReckonError', code: 'BAD_INPUT', message: `Invalid input for ${name}.` },
  };
}
