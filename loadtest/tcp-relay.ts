// The cheapest possible extra hop, for bench:router's reference arm: a byte-for-byte TCP relay (no HTTP parsing,
// no routing) in a process of its own, so the router's cost can be told apart from what any proxy process on the
// same machine costs the replica.
// usage: tsx loadtest/tcp-relay.ts --port 18200 --to 127.0.0.1:18180
import { connect, createServer } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { port: { type: "string" }, to: { type: "string" } } });
const [host, port] = values.to!.split(":");
createServer({ noDelay: true }, (client) => {
  const upstream = connect({ host: host!, port: Number(port), noDelay: true });
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", close).on("close", close);
  upstream.on("error", close).on("close", close);
}).listen(Number(values.port), "127.0.0.1", () => console.log(`relay at http://127.0.0.1:${values.port}`));
