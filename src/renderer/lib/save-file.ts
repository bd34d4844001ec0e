// Saves a text export the API answered (a tuning's trials as CSV) as a file the user keeps. The
// same code serves the browser and the desktop app: a click on a link to the text as a blob is a
// download in both (Electron asks where to save it, as for any download of the page).

/** Starts the download of `file` under its suggested name. */
export function saveTextFile(file: { fileName: string; mimeType: string; text: string }): void {
  const url = URL.createObjectURL(new Blob([file.text], { type: file.mimeType }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file.fileName;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The download reads the blob after click() returns: the URL is released a little later.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
