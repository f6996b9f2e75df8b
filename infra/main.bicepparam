// Parameters for deploying with the Azure CLI instead of the Agents Toolkit, read from the shell's environment:
//   set -a; . ./ticketzero.azure.env; set +a        # your values, kept out of git (see docs/deployment.md)
//   az deployment group create -g <resource group> -f infra/main.bicep -p infra/main.bicepparam
// The variable names are the ones env/.env.dev uses, so one set of values serves both ways of deploying.
using './main.bicep'

param resourceSuffix = readEnvironmentVariable('RESOURCE_SUFFIX', '')
param location = readEnvironmentVariable('AZURE_LOCATION', 'westeurope')
param botAppId = readEnvironmentVariable('BOT_ID')
param botTenantId = readEnvironmentVariable('BOT_TENANT_ID')
param botPassword = readEnvironmentVariable('SECRET_BOT_PASSWORD')
param botDisplayName = 'TicketZero${readEnvironmentVariable('APP_NAME_SUFFIX', '')}'
param teamsAppId = readEnvironmentVariable('TEAMS_APP_ID', '')
param containerImage = readEnvironmentVariable('CONTAINER_IMAGE', '')
param maxReplicas = readEnvironmentVariable('CONTAINER_MAX_REPLICAS', '1')
param deployPostgres = readEnvironmentVariable('DEPLOY_POSTGRES', 'true')
param postgresAdminPassword = readEnvironmentVariable('SECRET_POSTGRES_ADMIN_PASSWORD', '')
param ateraApiKey = readEnvironmentVariable('SECRET_ATERA_API_KEY')
param ateraWebhookSecret = readEnvironmentVariable('SECRET_ATERA_WEBHOOK_SECRET', '')
param azureOpenAiApiKey = readEnvironmentVariable('SECRET_AZURE_OPENAI_API_KEY', '')
param openAiApiKey = readEnvironmentVariable('SECRET_OPENAI_API_KEY', '')
param transcriptKeys = readEnvironmentVariable('SECRET_TRANSCRIPT_KEYS', '')
param metricsToken = readEnvironmentVariable('SECRET_METRICS_TOKEN', '')
param ateraTechnicianId = readEnvironmentVariable('ATERA_TECHNICIAN_ID', '')
param ateraTechnicianEmail = readEnvironmentVariable('ATERA_TECHNICIAN_EMAIL', '')
param ateraCommentVisibility = readEnvironmentVariable('ATERA_COMMENT_VISIBILITY', 'internal')
param techTeamId = readEnvironmentVariable('TECH_TEAM_ID', '')
param techChannelId = readEnvironmentVariable('TECH_CHANNEL_ID', '')
param techGroupId = readEnvironmentVariable('TECH_GROUP_ID', '')
param aiProviderOrder = readEnvironmentVariable('AI_PROVIDER_ORDER', 'azure,openai')
param azureOpenAiEndpoint = readEnvironmentVariable('AZURE_OPENAI_ENDPOINT', '')
param azureOpenAiDeployment = readEnvironmentVariable('AZURE_OPENAI_DEPLOYMENT', '')
param openAiModel = readEnvironmentVariable('OPENAI_MODEL', 'gpt-4o-mini')
param logLevel = readEnvironmentVariable('LOG_LEVEL', 'info')
