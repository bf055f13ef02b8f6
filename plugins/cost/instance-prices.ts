/**
 * On-demand hourly prices in USD (Linux, no discount) of common CPU and GPU instances, from the
 * providers' pricing pages: AWS EC2 On-Demand, us-east-1 (https://aws.amazon.com/ec2/pricing/on-demand/)
 * and Google Compute Engine, us-central1 (https://cloud.google.com/compute/vm-instance-pricing),
 * as listed in 2025. Prices change and differ by region: set `cost.pricePerHour` or `cost.prices`
 * for what you pay. Large multi-GPU instances (p4d, p5, a3) are left out: their prices moved in
 * 2025 and a stale figure would mislead; add yours in `cost.prices`.
 */
export const PRICE_SOURCE = 'on-demand list price, AWS us-east-1 / GCP us-central1, 2025'

export interface InstancePrice {
  usdPerHour: number
  vcpus: number
  gpus?: string
}

export const INSTANCE_PRICES: Readonly<Record<string, InstancePrice>> = {
  'aws:m7g.large': { usdPerHour: 0.0816, vcpus: 2 },
  'aws:c7g.xlarge': { usdPerHour: 0.145, vcpus: 4 },
  'aws:c7i.xlarge': { usdPerHour: 0.1785, vcpus: 4 },
  'aws:c7i.2xlarge': { usdPerHour: 0.357, vcpus: 8 },
  'aws:m7i.xlarge': { usdPerHour: 0.2016, vcpus: 4 },
  'aws:g4dn.xlarge': { usdPerHour: 0.526, vcpus: 4, gpus: '1× T4' },
  'aws:g5.xlarge': { usdPerHour: 1.006, vcpus: 4, gpus: '1× A10G' },
  'aws:g6.xlarge': { usdPerHour: 0.8048, vcpus: 4, gpus: '1× L4' },
  'aws:p3.2xlarge': { usdPerHour: 3.06, vcpus: 8, gpus: '1× V100' },
  'gcp:e2-standard-4': { usdPerHour: 0.134012, vcpus: 4 },
  'gcp:n2-standard-4': { usdPerHour: 0.194236, vcpus: 4 },
  'gcp:g2-standard-4': { usdPerHour: 0.706832, vcpus: 4, gpus: '1× L4' },
  'gcp:a2-highgpu-1g': { usdPerHour: 3.673477, vcpus: 12, gpus: '1× A100 40GB' },
}
