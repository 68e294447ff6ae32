// Each test file gets its own copy of nock (jest's module registry is per file), but the HTTP interception it installs
// is process-wide and outlives the file. A previous file's copy left active in the same jest worker can then answer a
// later file's request with its own (empty) interceptor list — "Disallowed net connect" for a request the later file
// did mock. So every file starts with its own copy active and leaves with it restored.
import nock from 'nock';

beforeAll(() => {
  if (!nock.isActive()) nock.activate();
});

afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
});
