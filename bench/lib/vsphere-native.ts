/** A direct vim25 SOAP listing written with node's https and no driver code: the native peer of the vSphere benches. */
import https from 'node:https';
import { performance } from 'node:perf_hooks';

const env = (body: string): string =>
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
  `<soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;

/** A minimal SOAP conversation over one keep-alive connection: login, a container view, one retrieve. */
export async function nativeList(url: string, ca: string, user: string, password: string, paths: string[], repeat: number): Promise<{ cold: number; warm: number; count: number }> {
  const u = new URL(url);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
  let cookie = '';
  const post = (body: string): Promise<string> => new Promise((resolve, reject) => {
    const data = env(body);
    const req = https.request({ hostname: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'Content-Type': 'text/xml', SOAPAction: 'urn:vim25/6.5', 'Content-Length': Buffer.byteLength(data), ...(cookie ? { Cookie: cookie } : {}) } }, (res) => {
      const c = res.headers['set-cookie']?.[0];
      if (c) cookie = c.split(';')[0]!;
      const chunks: Buffer[] = [];
      res.on('data', (x: Buffer) => chunks.push(x));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(data);
  });
  const t0 = performance.now();
  await post('<Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this>' +
    `<userName>${user}</userName><password>${password}</password></Login>`);
  const view = /<returnval type="ContainerView">([^<]+)</.exec(await post('<CreateContainerView xmlns="urn:vim25"><_this type="ViewManager">ViewManager</_this>' +
    '<container type="Folder">group-d1</container><type>VirtualMachine</type><recursive>true</recursive></CreateContainerView>'))![1]!;
  const retrieve = (): Promise<string> => post('<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">propertyCollector</_this><specSet>' +
    `<propSet><type>VirtualMachine</type>${paths.map((p) => `<pathSet>${p}</pathSet>`).join('')}</propSet>` +
    `<objectSet><obj type="ContainerView">${view}</obj><skip>true</skip><selectSet xsi:type="TraversalSpec"><name>v</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet>` +
    '</specSet><options/></RetrievePropertiesEx>');
  const first = await retrieve();
  const cold = performance.now() - t0;
  let warm = 0;
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    await retrieve();
    warm = performance.now() - t;
  }
  agent.destroy();
  if (/<token>/.test(first)) throw new Error('vcsim paged the answer: the native peer reads one page only');
  return { cold, warm, count: first.split('<obj type="VirtualMachine">').length - 1 };
}

