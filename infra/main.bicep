// TicketZero on Azure, in one resource group:
//   Log Analytics + Application Insights      logs of every replica; Bot Service analytics; a /healthz availability test
//   Key Vault (RBAC)                          the Atera API key, the bot's client secret and every other secret
//   Container Registry                        the TicketZero image that `deploy` builds
//   Container Apps environment + app          the bot: HTTPS ingress for /api/messages and the Atera webhook
//   PostgreSQL flexible server (optional)     the shared store when more than one replica runs
//   Azure Bot (single-tenant) + Teams channel the messaging endpoint Teams calls
//
// Why Container Apps rather than App Service for containers: TicketZero is a long-running poller as well as a web
// endpoint, so it needs an always-on replica (minReplicas 1) that scales out on HTTP load; Container Apps gives
// that on the consumption plan without paying for a dedicated App Service plan, reads Key Vault secrets through a
// managed identity natively, runs liveness/readiness probes on /healthz, and rolls out a new image as a new
// revision with no downtime. See docs/deployment.md.
//
// Deploy with the Agents Toolkit (teamsapp.yml, parameters from infra/azure.parameters.json) or with the Azure CLI:
//   az deployment group create -g <rg> -f infra/main.bicep -p infra/main.bicepparam

targetScope = 'resourceGroup'

@description('Short lower-case letters and digits that make global resource names unique; empty: derived from the resource group.')
@maxLength(12)
param resourceSuffix string = ''

@description('Azure region for everything except the Azure Bot (which is global).')
param location string = resourceGroup().location

// ---- Bot identity (the single-tenant Entra app registration) -----------------------------------------------

@description('Application (client) id of the Entra app registration the bot and Graph calls use (BOT_ID).')
@minLength(36)
@maxLength(36)
param botAppId string

@description('Directory (tenant) id of that app registration: single-tenant bots live in one tenant.')
@minLength(36)
@maxLength(36)
param botTenantId string

@secure()
@description('Client secret of that app registration (used for the Bot Framework and for Graph).')
param botPassword string

@description('Name shown for the bot in Azure and in Teams channel settings.')
param botDisplayName string = 'TicketZero'

@allowed(['F0', 'S1'])
@description('Azure Bot pricing tier. Teams is a standard channel: its messages are free on either tier.')
param botSku string = 'F0'

@description('The Teams app id (manifest id, TEAMS_APP_ID), used to find the app in the tenant catalogue for installs.')
param teamsAppId string = ''

@description('The app\'s id in the organisation\'s Teams app catalogue (TEAMS_APP_CATALOG_ID); empty: TicketZero looks it up by teamsAppId.')
param teamsAppCatalogId string = ''

// ---- Container ----------------------------------------------------------------------------------------------

@description('Image to run, e.g. crtzabc.azurecr.io/ticketzero:20250101-1. Empty on first provision: a placeholder runs until `deploy` pushes TicketZero.')
param containerImage string = ''

// These two are strings because the toolkit fills parameters files from env/.env.<name> as text.
@allowed(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'])
@description('Upper bound of replicas. More than 1 needs PostgreSQL (deployPostgres).')
param maxReplicas string = '1'

@allowed(['true', 'false'])
@description('Deploy Azure Database for PostgreSQL flexible server and run TicketZero with STORE=postgres.')
param deployPostgres string = 'true'

@description('PostgreSQL administrator login.')
param postgresAdminLogin string = 'ticketzero'

@secure()
@description('PostgreSQL administrator password (required when deployPostgres is true).')
param postgresAdminPassword string = ''

// ---- Secrets, stored in Key Vault ---------------------------------------------------------------------------

@secure()
@description('Atera API key (Atera Admin → API).')
param ateraApiKey string

@secure()
@description('Secret in the Atera webhook URL (16+ characters); empty: the webhook endpoint stays off and polling alone finds tickets.')
param ateraWebhookSecret string = ''

@secure()
@description('Azure OpenAI API key, when AI_PROVIDER_ORDER includes azure.')
param azureOpenAiApiKey string = ''

@secure()
@description('OpenAI API key, when AI_PROVIDER_ORDER includes openai.')
param openAiApiKey string = ''

@secure()
@description('Transcript encryption keys, "id:base64key,…" (optional).')
param transcriptKeys string = ''

@secure()
@description('Bearer token for /metrics (16+ characters; optional, /metrics answers 401 without it).')
param metricsToken string = ''

// ---- TicketZero settings (names as in src/config/sections/*.ts) ---------------------------------------------

@description('ATERA_TECHNICIAN_ID: the Atera technician TicketZero writes as (this or ateraTechnicianEmail).')
param ateraTechnicianId string = ''

@description('ATERA_TECHNICIAN_EMAIL: the Atera technician TicketZero writes as (this or ateraTechnicianId).')
param ateraTechnicianEmail string = ''

@allowed(['internal', 'public'])
param ateraCommentVisibility string = 'internal'

@description('TECH_TEAM_ID / TECH_CHANNEL_ID: the technicians\' channel (or "@TicketZero use this channel").')
param techTeamId string = ''
param techChannelId string = ''

@description('TECH_GROUP_ID: Entra group whose members count as technicians (optional).')
param techGroupId string = ''

@description('AI_PROVIDER_ORDER, e.g. "azure,openai".')
param aiProviderOrder string = 'azure,openai'
param azureOpenAiEndpoint string = ''
param azureOpenAiDeployment string = ''
param openAiModel string = 'gpt-4o-mini'

@allowed(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
param logLevel string = 'info'

// ---- Names ------------------------------------------------------------------------------------------------------

var suffix = empty(resourceSuffix) ? take(uniqueString(resourceGroup().id), 8) : toLower(resourceSuffix)
var names = {
  identity: 'id-ticketzero-${suffix}'
  logs: 'log-ticketzero-${suffix}'
  insights: 'appi-ticketzero-${suffix}'
  keyVault: 'kv-tz-${suffix}'
  registry: 'crtz${suffix}'
  environment: 'cae-ticketzero-${suffix}'
  app: 'ca-ticketzero-${suffix}'
  postgres: 'psql-ticketzero-${suffix}'
  bot: 'bot-ticketzero-${suffix}'
  healthTest: 'webtest-ticketzero-health-${suffix}'
}

// Until `deploy` pushes TicketZero, a Microsoft sample image (port 80) keeps the first revision healthy.
var placeholderImage = 'mcr.microsoft.com/k8se/quickstart:latest'
var usePlaceholder = empty(containerImage)
var port = usePlaceholder ? 80 : 3978
var databaseName = 'ticketzero'
var usePostgres = deployPostgres == 'true'

// Built-in role definition ids.
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

// ---- Identity, logs, monitoring -----------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
}

resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: names.logs
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: names.insights
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
  }
}

// ---- Key Vault and its secrets ------------------------------------------------------------------------------

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: names.keyVault
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 30
  }
}

resource vaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, identity.id, keyVaultSecretsUser)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
  }
}

var databaseUrl = 'postgres://${postgresAdminLogin}:${uriComponent(postgresAdminPassword)}@${names.postgres}.postgres.database.azure.com:5432/${databaseName}?sslmode=require'

// Each secret: Key Vault name → the TicketZero setting it feeds. Empty optional secrets are left out.
var secretValues = [
  { name: 'atera-api-key', env: 'ATERA_API_KEY', value: ateraApiKey }
  { name: 'microsoft-app-password', env: 'MICROSOFT_APP_PASSWORD', value: botPassword }
  { name: 'graph-client-secret', env: 'GRAPH_CLIENT_SECRET', value: botPassword }
  { name: 'atera-webhook-secret', env: 'ATERA_WEBHOOK_SECRET', value: ateraWebhookSecret }
  { name: 'azure-openai-api-key', env: 'AZURE_OPENAI_API_KEY', value: azureOpenAiApiKey }
  { name: 'openai-api-key', env: 'OPENAI_API_KEY', value: openAiApiKey }
  { name: 'transcript-keys', env: 'TRANSCRIPT_KEYS', value: transcriptKeys }
  { name: 'metrics-token', env: 'METRICS_TOKEN', value: metricsToken }
  { name: 'database-url', env: 'DATABASE_URL', value: usePostgres ? databaseUrl : '' }
]
var secrets = filter(secretValues, s => !empty(s.value))

resource vaultSecrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for s in secrets: {
    parent: vault
    name: s.name
    properties: { value: s.value }
  }
]

// ---- Registry -------------------------------------------------------------------------------------------------

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: names.registry
  location: location
  sku: { name: 'Basic' }
  properties: { adminUserEnabled: false }
}

resource registryPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: registry
  name: guid(registry.id, identity.id, acrPull)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
  }
}

// ---- PostgreSQL (multi-instance mode) -------------------------------------------------------------------------

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2022-12-01' = if (usePostgres) {
  name: names.postgres
  location: location
  sku: { name: 'Standard_B1ms', tier: 'Burstable' }
  properties: {
    version: '16'
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    storage: { storageSizeGB: 32 }
    backup: { backupRetentionDays: 7, geoRedundantBackup: 'Disabled' }
    highAvailability: { mode: 'Disabled' }
  }
}

resource postgresDatabase 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2022-12-01' = if (usePostgres) {
  parent: postgres
  name: databaseName
  properties: { charset: 'UTF8', collation: 'en_US.utf8' }
}

// Public access limited to Azure services; put the server in a VNet for stricter isolation (docs/deployment.md).
resource postgresFromAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2022-12-01' = if (usePostgres) {
  parent: postgres
  name: 'AllowAzureServices'
  properties: { startIpAddress: '0.0.0.0', endIpAddress: '0.0.0.0' }
}

// ---- Container Apps -------------------------------------------------------------------------------------------

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: names.environment
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

var plainSettings = [
  { name: 'NODE_ENV', value: 'production' }
  { name: 'PORT', value: string(port) }
  { name: 'HOST', value: '0.0.0.0' }
  { name: 'LOG_LEVEL', value: logLevel }
  { name: 'MICROSOFT_APP_ID', value: botAppId }
  { name: 'MICROSOFT_APP_TENANT_ID', value: botTenantId }
  { name: 'MICROSOFT_APP_TYPE', value: 'SingleTenant' }
  { name: 'TEAMS_APP_ID', value: teamsAppId }
  { name: 'TEAMS_APP_CATALOG_ID', value: teamsAppCatalogId }
  { name: 'GRAPH_TENANT_ID', value: botTenantId }
  { name: 'GRAPH_CLIENT_ID', value: botAppId }
  { name: 'ATERA_TECHNICIAN_ID', value: ateraTechnicianId }
  { name: 'ATERA_TECHNICIAN_EMAIL', value: ateraTechnicianEmail }
  { name: 'ATERA_COMMENT_VISIBILITY', value: ateraCommentVisibility }
  { name: 'TECH_TEAM_ID', value: techTeamId }
  { name: 'TECH_CHANNEL_ID', value: techChannelId }
  { name: 'TECH_GROUP_ID', value: techGroupId }
  { name: 'AI_PROVIDER_ORDER', value: aiProviderOrder }
  { name: 'AZURE_OPENAI_ENDPOINT', value: azureOpenAiEndpoint }
  { name: 'AZURE_OPENAI_DEPLOYMENT', value: azureOpenAiDeployment }
  { name: 'OPENAI_MODEL', value: openAiModel }
  { name: 'STORE', value: usePostgres ? 'postgres' : 'lowdb' }
  { name: 'DATA_DIR', value: '/app/data' }
]
var secretSettings = [for s in secrets: { name: s.env, secretRef: s.name }]

var healthProbes = [
  {
    type: 'Liveness'
    httpGet: { path: '/healthz', port: port }
    initialDelaySeconds: 10
    periodSeconds: 30
  }
  {
    type: 'Readiness'
    httpGet: { path: '/healthz', port: port }
    periodSeconds: 10
  }
]

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: names.app
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: port
        transport: 'auto'
        allowInsecure: false
      }
      registries: [{ server: registry.properties.loginServer, identity: identity.id }]
      secrets: [
        for s in secrets: {
          name: s.name
          keyVaultUrl: '${vault.properties.vaultUri}secrets/${s.name}'
          identity: identity.id
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'ticketzero'
          image: usePlaceholder ? placeholderImage : containerImage
          resources: { cpu: json('0.5'), memory: '1Gi' }
          env: concat(plainSettings, secretSettings)
          probes: usePlaceholder ? [] : healthProbes
        }
      ]
      // One replica always runs: TicketZero polls Atera even when nobody is talking to it.
      scale: {
        minReplicas: 1
        maxReplicas: usePostgres ? int(maxReplicas) : 1
        rules: [{ name: 'http', http: { metadata: { concurrentRequests: '50' } } }]
      }
    }
  }
  dependsOn: [vaultReader, registryPull, vaultSecrets, postgresDatabase]
}

var appDomain = app.properties.configuration.ingress.fqdn

// ---- Azure Bot (single-tenant) with the Teams channel -------------------------------------------------------

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: names.bot
  location: 'global'
  kind: 'azurebot'
  sku: { name: botSku }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${appDomain}/api/messages'
    msaAppId: botAppId
    msaAppTenantId: botTenantId
    msaAppType: 'SingleTenant'
    developerAppInsightKey: insights.properties.InstrumentationKey
    developerAppInsightsApplicationId: insights.properties.AppId
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: { isEnabled: true }
  }
}

// ---- Availability test on /healthz ----------------------------------------------------------------------------

resource healthTest 'Microsoft.Insights/webtests@2022-06-15' = if (!usePlaceholder) {
  name: names.healthTest
  location: location
  kind: 'standard'
  tags: { 'hidden-link:${insights.id}': 'Resource' }
  properties: {
    SyntheticMonitorId: names.healthTest
    Name: 'TicketZero /healthz'
    Kind: 'standard'
    Enabled: true
    Frequency: 300
    Timeout: 30
    RetryEnabled: true
    Locations: [{ Id: 'emea-nl-ams-azr' }, { Id: 'us-va-ash-azr' }, { Id: 'apac-sg-sin-azr' }]
    Request: { RequestUrl: 'https://${appDomain}/healthz', HttpVerb: 'GET' }
    ValidationRules: { ExpectedHttpStatusCode: 200, SSLCheck: true }
  }
}

// ---- Outputs (the Agents Toolkit writes these into env/.env.<name>) -----------------------------------------

output BOT_DOMAIN string = appDomain
output BOT_ENDPOINT string = 'https://${appDomain}'
output AZURE_CONTAINER_APP_NAME string = app.name
output AZURE_CONTAINER_REGISTRY_NAME string = registry.name
output AZURE_CONTAINER_REGISTRY_LOGIN_SERVER string = registry.properties.loginServer
output AZURE_KEY_VAULT_NAME string = vault.name
output AZURE_BOT_NAME string = bot.name
output AZURE_LOG_ANALYTICS_WORKSPACE_ID string = logs.properties.customerId
