/** The token krypton serve printed, carried from the page's address to every request. */
const token = new URLSearchParams(location.search).get('token');

/** A one-line problem the server reported, shown as it is. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function withToken(init: RequestInit = {}): RequestInit {
  const headers = new Headers(init.headers);
  if (token) headers.set('x-krypton-token', token);
  return { ...init, headers };
}

export async function request(path: string, init?: RequestInit): Promise<Response> {
  const response = await fetch(path, withToken(init));
  if (!response.ok) {
    const text = await response.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // Not JSON: the text itself.
    }
    throw new ApiError(response.status, message || `${response.status} ${response.statusText}`);
  }
  return response;
}

export async function getJson<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
  const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  const search = params.toString();
  return (await request(search ? `${path}?${search}` : path)).json() as Promise<T>;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return (await request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<T>;
}

/** Newline-delimited JSON events of a streamed response, each handed over as it arrives. */
export async function postStream(path: string, body: unknown, onEvent: (event: Record<string, unknown>) => void): Promise<void> {
  const response = await request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.trim()) onEvent(JSON.parse(line) as Record<string, unknown>);
    }
  }
}

/** An image as the page can draw it; `frame` (from 1) of a multi-frame DICOM file. */
export function imageUrl(path: string, frame = 1): string {
  const params = new URLSearchParams({ path });
  if (frame !== 1) params.set('frame', String(frame));
  if (token) params.set('token', token);
  return `/api/image?${params}`;
}

export async function upload(file: File): Promise<{ path: string }> {
  const response = await request(`/api/uploads?name=${encodeURIComponent(file.name)}`, { method: 'POST', headers: { 'content-type': file.type || 'application/octet-stream' }, body: file });
  return response.json() as Promise<{ path: string }>;
}

/** An image of the allowed folders, fetched first so that a refusal shows its own message. */
export async function loadImage(path: string, frame = 1): Promise<HTMLImageElement> {
  const blob = await (await request(imageUrl(path, frame))).blob();
  const url = URL.createObjectURL(blob);
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new ApiError(0, `the image ${path} could not be shown`));
    image.src = url;
  });
}
