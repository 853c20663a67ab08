// Custom resource (docs/adr/0047): fails the deploy, with the command that fixes it, when an EKS cluster's
// authentication mode cannot take access entries. Inline code (Code.ZipFile): CloudFormation writes it to index.js,
// which Lambda loads as CommonJS; the Node.js runtime provides the AWS SDK v3.
const http = require('node:http');
const https = require('node:https');
const { EKSClient, DescribeClusterCommand } = require('@aws-sdk/client-eks');

const ACCESS_ENTRY_MODES = ['API', 'API_AND_CONFIG_MAP'];

/** Why access entries cannot be created on the cluster, or null when they can. */
async function check(client, cluster, region) {
  let mode;
  try {
    const out = await client.send(new DescribeClusterCommand({ name: cluster }));
    mode = out.cluster?.accessConfig?.authenticationMode ?? 'CONFIG_MAP';
  } catch (error) {
    if (error.name !== 'ResourceNotFoundException') throw error;
    return `EKS cluster ${cluster} does not exist in ${region}: fix the cluster name or region in the configuration.`;
  }
  if (ACCESS_ENTRY_MODES.includes(mode)) return null;
  return (
    `EKS cluster ${cluster} (${region}) uses authentication mode ${mode}; access entries need API or ` +
    'API_AND_CONFIG_MAP. Switch it (one way; the aws-auth ConfigMap keeps working): aws eks update-cluster-config ' +
    `--region ${region} --name ${cluster} --access-config authenticationMode=API_AND_CONFIG_MAP` +
    ` -- or deploy with -c eksAwsAuthClusters=${cluster} and add the aws-auth entry the stack outputs.`
  );
}

/** Answers CloudFormation at the pre-signed ResponseURL. */
function respond(event, status, reason, data) {
  const body = JSON.stringify({
    Status: status,
    Reason: reason.slice(0, 3000),
    PhysicalResourceId: event.PhysicalResourceId ?? `eks-authentication-mode-${event.ResourceProperties.ClusterName}`,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: data,
  });
  return new Promise((resolve, reject) => {
    const request = (event.ResponseURL.startsWith('http:') ? http : https).request(
      event.ResponseURL,
      { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        response.resume();
        response.on('end', resolve);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

exports.check = check;
exports.handler = async (event) => {
  const { ClusterName: cluster, Region: region } = event.ResourceProperties;
  let status = 'SUCCESS';
  let reason = 'access entries can be created';
  if (event.RequestType !== 'Delete') {
    try {
      const problem = await check(new EKSClient({ region }), cluster, region);
      if (problem) [status, reason] = ['FAILED', problem];
    } catch (error) {
      [status, reason] = [
        'FAILED',
        `Could not describe EKS cluster ${cluster} in ${region}: ${error.name}: ${error.message}`,
      ];
    }
  }
  console.log(JSON.stringify({ cluster, region, status, reason }));
  await respond(event, status, reason, {});
};
