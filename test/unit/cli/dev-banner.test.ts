// What `npm start` prints: how to reach the dashboard and the API with the admin key, and where the key is; never the key.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { devBanner, type BannerInput } from '../../../src/cli/banner';

const base: BannerInput = {
  apiUrl: 'http://127.0.0.1:3000', temporalUiUrl: 'http://localhost:8233', grpc: '127.0.0.1:50051', events: 'in-process bus',
  dropFolder: '/srv/dropoff', database: 'embedded', adminKeyFromEnv: false, adminKeyGenerated: true, stateDir: '/srv/state',
};

describe('npm start banner', () => {
  it('names the dashboard, the API and the key file, and shows a request using the key without printing it', () => {
    const text = devBanner(base);
    const keyFile = path.join('/srv/state', 'admin-key');
    expect(text).toMatch(/dashboard +http:\/\/127\.0\.0\.1:3000\/ /);
    expect(text).toContain(`admin key        in ${keyFile}`);
    expect(text).toContain(`curl -H "Authorization: Bearer $(cat ${keyFile})" http://127.0.0.1:3000/api/v1/files`);
    expect(text).not.toMatch(/rdk_/);
  });

  it('points at the variable when the key came from REFDATA_ADMIN_KEY', () => {
    const text = devBanner({ ...base, adminKeyFromEnv: true, adminKeyGenerated: false });
    expect(text).toContain('admin key        in REFDATA_ADMIN_KEY');
    expect(text).toContain('Bearer $REFDATA_ADMIN_KEY');
    expect(text).not.toContain('admin-key');
  });
});
